// cim web chat: built by `npm run build` in web/chat from src/ and the cim-sdk browser entry. Do not edit.
"use strict";
(() => {
  var __defProp = Object.defineProperty;
  var __defNormalProp = (obj2, key, value) => key in obj2 ? __defProp(obj2, key, { enumerable: true, configurable: true, writable: true, value }) : obj2[key] = value;
  var __publicField = (obj2, key, value) => __defNormalProp(obj2, typeof key !== "symbol" ? key + "" : key, value);

  // ../../sdk-bindings/typescript/dist/errors.js
  var ErrorCode = {
    MALFORMED_FRAME: 1e3,
    FRAME_TOO_LARGE: 1001,
    BAD_LENGTH_PREFIX: 1002,
    UNKNOWN_FRAME: 1003,
    UNEXPECTED_FRAME: 1004,
    UNSUPPORTED_VERSION: 1005,
    HANDSHAKE_TIMEOUT: 1006,
    HEARTBEAT_TIMEOUT: 1007,
    INVALID_FIELD: 1008,
    UNAUTHENTICATED: 2e3,
    TOKEN_EXPIRED: 2001,
    FORBIDDEN: 2002,
    UNKNOWN_RECIPIENT: 3e3,
    BODY_TOO_LARGE: 3001,
    IN_FLIGHT_EXCEEDED: 3002,
    RATE_LIMITED: 3003,
    INVALID_CLIENT_MSG_ID: 3004,
    INBOX_FULL: 3005,
    TOO_MANY_SESSIONS: 4e3,
    SLOW_CONSUMER: 4001,
    INTERNAL: 5e3,
    UNAVAILABLE: 5001,
    SHUTTING_DOWN: 5002,
    OUTCOME_UNKNOWN: 5003,
    ALREADY_EXISTS: 6e3,
    NOT_FOUND: 6001,
    INVALID_CREDENTIALS: 6002
  };
  var RETRY_EXCEPTIONS = /* @__PURE__ */ new Map([
    [ErrorCode.HANDSHAKE_TIMEOUT, "after"],
    [ErrorCode.HEARTBEAT_TIMEOUT, "after"],
    [ErrorCode.FORBIDDEN, "no"],
    [ErrorCode.IN_FLIGHT_EXCEEDED, "after"],
    [ErrorCode.RATE_LIMITED, "after"],
    [ErrorCode.SLOW_CONSUMER, "after"]
  ]);
  var NAMES = new Map(Object.entries(ErrorCode).map(([name, code]) => [code, name]));
  function errorName(code) {
    return NAMES.get(code) ?? `UNKNOWN_${code}`;
  }
  function retryOf(code) {
    const exception = RETRY_EXCEPTIONS.get(code);
    if (exception !== void 0)
      return exception;
    if (code >= 5e3 && code <= 5999)
      return "after";
    if (code >= 2e3 && code <= 2999)
      return "relogin";
    return "no";
  }
  var CimError = class extends Error {
    constructor(kind, message, code, retryAfterMs) {
      super(message);
      __publicField(this, "name", "CimError");
      /** What the failure means for the caller. */
      __publicField(this, "kind");
      /** The registry code (§11.2), or `undefined` when the failure has none (a lost connection). */
      __publicField(this, "code");
      /** How long the peer asked to wait before trying again, if it said. */
      __publicField(this, "retryAfterMs");
      this.kind = kind;
      this.code = code;
      this.retryAfterMs = retryAfterMs;
    }
    /** The registry name of `code` (`INVALID_CREDENTIALS`, …), if there is a code. */
    get codeName() {
      return this.code === void 0 ? void 0 : errorName(this.code);
    }
  };
  var AuthenticationError = class extends CimError {
    constructor(message, code) {
      super("authentication", message, code);
      __publicField(this, "name", "AuthenticationError");
    }
  };
  var UnavailableError = class extends CimError {
    constructor(message, code, retryAfterMs) {
      super("unavailable", message, code, retryAfterMs);
      __publicField(this, "name", "UnavailableError");
    }
  };
  var RejectedError = class extends CimError {
    constructor(message, code) {
      super("rejected", message, code);
      __publicField(this, "name", "RejectedError");
    }
  };
  var InvalidInputError = class extends CimError {
    constructor(message, code) {
      super("invalid_input", message, code);
      __publicField(this, "name", "InvalidInputError");
    }
  };
  var ClosedError = class extends CimError {
    constructor(message, code) {
      super("closed", message, code);
      __publicField(this, "name", "ClosedError");
    }
  };
  var AUTHENTICATION_CODES = /* @__PURE__ */ new Set([
    ErrorCode.INVALID_CREDENTIALS,
    ErrorCode.UNAUTHENTICATED,
    ErrorCode.TOKEN_EXPIRED
  ]);
  function errorForCode(code, message, retryAfterMs) {
    if (AUTHENTICATION_CODES.has(code) || retryOf(code) === "relogin" && code !== ErrorCode.FORBIDDEN) {
      return new AuthenticationError(message, code);
    }
    if (retryOf(code) === "after")
      return new UnavailableError(message, code, retryAfterMs);
    return new RejectedError(message, code);
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/reflect/names.js
  function protoCamelCase(snakeCase) {
    let capNext = false;
    const b = [];
    for (let i = 0; i < snakeCase.length; i++) {
      let c = snakeCase.charAt(i);
      switch (c) {
        case "_":
          capNext = true;
          break;
        case "0":
        case "1":
        case "2":
        case "3":
        case "4":
        case "5":
        case "6":
        case "7":
        case "8":
        case "9":
          b.push(c);
          capNext = false;
          break;
        default:
          if (capNext) {
            capNext = false;
            c = c.toUpperCase();
          }
          b.push(c);
          break;
      }
    }
    return b.join("");
  }
  var reservedObjectProperties = /* @__PURE__ */ new Set([
    // names reserved by JavaScript
    "constructor",
    "toString",
    "toJSON",
    "valueOf"
  ]);
  function safeObjectProperty(name) {
    return reservedObjectProperties.has(name) ? name + "$" : name;
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/wire/varint.js
  function varint64read() {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = buf[pos++];
      lo |= (b & 127) << shift;
      if ((b & 128) == 0) {
        this.pos = pos;
        this.assertBounds();
        this.varint64Lo = lo;
        this.varint64Hi = hi;
        return;
      }
    }
    const middleByte = buf[pos++];
    lo |= (middleByte & 15) << 28;
    hi = (middleByte & 112) >> 4;
    if ((middleByte & 128) == 0) {
      this.pos = pos;
      this.assertBounds();
      this.varint64Lo = lo;
      this.varint64Hi = hi;
      return;
    }
    for (let shift = 3; shift <= 31; shift += 7) {
      const b = buf[pos++];
      hi |= (b & 127) << shift;
      if ((b & 128) == 0) {
        this.pos = pos;
        this.assertBounds();
        this.varint64Lo = lo;
        this.varint64Hi = hi;
        return;
      }
    }
    throw new Error("invalid varint");
  }
  var TWO_PWR_32_DBL = 4294967296;
  function int64FromString(dec) {
    const minus = dec[0] === "-";
    if (minus) {
      dec = dec.slice(1);
    }
    const base = 1e6;
    let lowBits = 0;
    let highBits = 0;
    function add1e6digit(begin, end) {
      const digit1e6 = Number(dec.slice(begin, end));
      highBits *= base;
      lowBits = lowBits * base + digit1e6;
      if (lowBits >= TWO_PWR_32_DBL) {
        highBits = highBits + (lowBits / TWO_PWR_32_DBL | 0);
        lowBits = lowBits % TWO_PWR_32_DBL;
      }
    }
    add1e6digit(-24, -18);
    add1e6digit(-18, -12);
    add1e6digit(-12, -6);
    add1e6digit(-6);
    return minus ? negate(lowBits, highBits) : newBits(lowBits, highBits);
  }
  function int64ToString(lo, hi) {
    let bits = newBits(lo, hi);
    const negative = bits.hi & 2147483648;
    if (negative) {
      bits = negate(bits.lo, bits.hi);
    }
    const result = uInt64ToString(bits.lo, bits.hi);
    return negative ? "-" + result : result;
  }
  function uInt64ToString(lo, hi) {
    ({ lo, hi } = toUnsigned(lo, hi));
    if (hi <= 2097151) {
      return String(TWO_PWR_32_DBL * hi + lo);
    }
    const low = lo & 16777215;
    const mid = (lo >>> 24 | hi << 8) & 16777215;
    const high = hi >> 16 & 65535;
    let digitA = low + mid * 6777216 + high * 6710656;
    let digitB = mid + high * 8147497;
    let digitC = high * 2;
    const base = 1e7;
    if (digitA >= base) {
      digitB += Math.floor(digitA / base);
      digitA %= base;
    }
    if (digitB >= base) {
      digitC += Math.floor(digitB / base);
      digitB %= base;
    }
    return digitC.toString() + decimalFrom1e7WithLeadingZeros(digitB) + decimalFrom1e7WithLeadingZeros(digitA);
  }
  function toUnsigned(lo, hi) {
    return { lo: lo >>> 0, hi: hi >>> 0 };
  }
  function newBits(lo, hi) {
    return { lo: lo | 0, hi: hi | 0 };
  }
  function negate(lowBits, highBits) {
    highBits = ~highBits;
    if (lowBits) {
      lowBits = ~lowBits + 1;
    } else {
      highBits += 1;
    }
    return newBits(lowBits, highBits);
  }
  var decimalFrom1e7WithLeadingZeros = (digit1e7) => {
    const partial = String(digit1e7);
    return "0000000".slice(partial.length) + partial;
  };
  function varint32write(value, bytes) {
    if (value >>> 0 < 128) {
      bytes.push(value);
      return;
    }
    if (value >= 0) {
      while (value > 127) {
        bytes.push(value & 127 | 128);
        value = value >>> 7;
      }
      bytes.push(value);
    } else {
      for (let i = 0; i < 9; i++) {
        bytes.push(value & 127 | 128);
        value = value >> 7;
      }
      bytes.push(1);
    }
  }
  function varint32read() {
    let b = this.buf[this.pos++];
    if ((b & 128) === 0) {
      this.assertBounds();
      return b;
    }
    let result = b & 127;
    b = this.buf[this.pos++];
    result |= (b & 127) << 7;
    if ((b & 128) === 0) {
      this.assertBounds();
      return result;
    }
    b = this.buf[this.pos++];
    result |= (b & 127) << 14;
    if ((b & 128) === 0) {
      this.assertBounds();
      return result;
    }
    b = this.buf[this.pos++];
    result |= (b & 127) << 21;
    if ((b & 128) === 0) {
      this.assertBounds();
      return result;
    }
    b = this.buf[this.pos++];
    result |= (b & 15) << 28;
    for (let readBytes = 5; (b & 128) !== 0 && readBytes < 10; readBytes++)
      b = this.buf[this.pos++];
    if ((b & 128) !== 0)
      throw new Error("invalid varint");
    this.assertBounds();
    return result >>> 0;
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/proto-int64.js
  var protoInt64 = /* @__PURE__ */ makeInt64Support();
  function makeInt64Support() {
    const dv = new DataView(new ArrayBuffer(8));
    const ok = typeof BigInt === "function" && typeof dv.getBigInt64 === "function" && typeof dv.getBigUint64 === "function" && typeof dv.setBigInt64 === "function" && typeof dv.setBigUint64 === "function" && (!!globalThis.Deno || !!globalThis.Bun || typeof process != "object" || typeof process.env != "object" || process.env.BUF_BIGINT_DISABLE !== "1");
    if (ok) {
      const MIN = BigInt("-9223372036854775808");
      const MAX = BigInt("9223372036854775807");
      const UMIN = BigInt("0");
      const UMAX = BigInt("18446744073709551615");
      return {
        zero: BigInt(0),
        supported: true,
        parse(value) {
          const bi = typeof value == "bigint" ? value : BigInt(value);
          if (bi > MAX || bi < MIN) {
            throw new Error(`invalid int64: ${value}`);
          }
          return bi;
        },
        uParse(value) {
          const bi = typeof value == "bigint" ? value : BigInt(value);
          if (bi > UMAX || bi < UMIN) {
            throw new Error(`invalid uint64: ${value}`);
          }
          return bi;
        },
        enc(value) {
          dv.setBigInt64(0, this.parse(value), true);
          return {
            lo: dv.getInt32(0, true),
            hi: dv.getInt32(4, true)
          };
        },
        uEnc(value) {
          dv.setBigInt64(0, this.uParse(value), true);
          return {
            lo: dv.getInt32(0, true),
            hi: dv.getInt32(4, true)
          };
        },
        dec(lo, hi) {
          dv.setInt32(0, lo, true);
          dv.setInt32(4, hi, true);
          return dv.getBigInt64(0, true);
        },
        uDec(lo, hi) {
          dv.setInt32(0, lo, true);
          dv.setInt32(4, hi, true);
          return dv.getBigUint64(0, true);
        }
      };
    }
    return {
      zero: "0",
      supported: false,
      parse(value) {
        if (typeof value != "string") {
          value = value.toString();
        }
        assertInt64String(value);
        return value;
      },
      uParse(value) {
        if (typeof value != "string") {
          value = value.toString();
        }
        assertUInt64String(value);
        return value;
      },
      enc(value) {
        if (typeof value != "string") {
          value = value.toString();
        }
        assertInt64String(value);
        return int64FromString(value);
      },
      uEnc(value) {
        if (typeof value != "string") {
          value = value.toString();
        }
        assertUInt64String(value);
        return int64FromString(value);
      },
      dec(lo, hi) {
        return int64ToString(lo, hi);
      },
      uDec(lo, hi) {
        return uInt64ToString(lo, hi);
      }
    };
  }
  function assertInt64String(value) {
    if (!/^-?[0-9]+$/.test(value)) {
      throw new Error("invalid int64: " + value);
    }
  }
  function assertUInt64String(value) {
    if (!/^[0-9]+$/.test(value)) {
      throw new Error("invalid uint64: " + value);
    }
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/descriptors.js
  var ScalarType;
  (function(ScalarType2) {
    ScalarType2[ScalarType2["DOUBLE"] = 1] = "DOUBLE";
    ScalarType2[ScalarType2["FLOAT"] = 2] = "FLOAT";
    ScalarType2[ScalarType2["INT64"] = 3] = "INT64";
    ScalarType2[ScalarType2["UINT64"] = 4] = "UINT64";
    ScalarType2[ScalarType2["INT32"] = 5] = "INT32";
    ScalarType2[ScalarType2["FIXED64"] = 6] = "FIXED64";
    ScalarType2[ScalarType2["FIXED32"] = 7] = "FIXED32";
    ScalarType2[ScalarType2["BOOL"] = 8] = "BOOL";
    ScalarType2[ScalarType2["STRING"] = 9] = "STRING";
    ScalarType2[ScalarType2["BYTES"] = 12] = "BYTES";
    ScalarType2[ScalarType2["UINT32"] = 13] = "UINT32";
    ScalarType2[ScalarType2["SFIXED32"] = 15] = "SFIXED32";
    ScalarType2[ScalarType2["SFIXED64"] = 16] = "SFIXED64";
    ScalarType2[ScalarType2["SINT32"] = 17] = "SINT32";
    ScalarType2[ScalarType2["SINT64"] = 18] = "SINT64";
  })(ScalarType || (ScalarType = {}));

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/reflect/scalar.js
  function scalarZeroValue(type, longAsString) {
    switch (type) {
      case ScalarType.STRING:
        return "";
      case ScalarType.BOOL:
        return false;
      case ScalarType.DOUBLE:
      case ScalarType.FLOAT:
        return 0;
      case ScalarType.INT64:
      case ScalarType.UINT64:
      case ScalarType.SFIXED64:
      case ScalarType.FIXED64:
      case ScalarType.SINT64:
        return longAsString ? "0" : protoInt64.zero;
      case ScalarType.BYTES:
        return new Uint8Array(0);
      default:
        return 0;
    }
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/reflect/unsafe.js
  function unsafeIsSetExplicit(target, localName) {
    return Object.prototype.hasOwnProperty.call(target, localName) && target[localName] !== void 0;
  }
  function setOwn(obj2, key, value) {
    if (key === "__proto__") {
      Object.defineProperty(obj2, "__proto__", {
        value,
        writable: true,
        enumerable: true,
        configurable: true
      });
    } else {
      obj2[key] = value;
    }
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/codegenv2/restore-json-names.js
  function restoreJsonNames(message) {
    for (const f of message.field) {
      if (!unsafeIsSetExplicit(f, "jsonName")) {
        f.jsonName = protoCamelCase(f.name);
      }
    }
    message.nestedType.forEach(restoreJsonNames);
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/wire/text-format.js
  function parseTextFormatEnumValue(descEnum, value) {
    const enumValue = descEnum.values.find((v) => v.name === value);
    if (!enumValue) {
      throw new Error(`cannot parse ${descEnum} default value: ${value}`);
    }
    return enumValue.number;
  }
  function parseTextFormatScalarValue(type, value) {
    switch (type) {
      case ScalarType.STRING:
        return value;
      case ScalarType.BYTES: {
        const u = unescapeBytesDefaultValue(value);
        if (u === false) {
          throw new Error(`cannot parse ${ScalarType[type]} default value: ${value}`);
        }
        return u;
      }
      case ScalarType.INT64:
      case ScalarType.SFIXED64:
      case ScalarType.SINT64:
        return protoInt64.parse(value);
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        return protoInt64.uParse(value);
      case ScalarType.DOUBLE:
      case ScalarType.FLOAT:
        switch (value) {
          case "inf":
            return Number.POSITIVE_INFINITY;
          case "-inf":
            return Number.NEGATIVE_INFINITY;
          case "nan":
            return Number.NaN;
          default:
            return parseFloat(value);
        }
      case ScalarType.BOOL:
        return value === "true";
      case ScalarType.INT32:
      case ScalarType.UINT32:
      case ScalarType.SINT32:
      case ScalarType.FIXED32:
      case ScalarType.SFIXED32:
        return parseInt(value, 10);
    }
  }
  function unescapeBytesDefaultValue(str2) {
    const b = [];
    const input = {
      tail: str2,
      c: "",
      next() {
        if (this.tail.length == 0) {
          return false;
        }
        this.c = this.tail[0];
        this.tail = this.tail.substring(1);
        return true;
      },
      take(n) {
        if (this.tail.length >= n) {
          const r = this.tail.substring(0, n);
          this.tail = this.tail.substring(n);
          return r;
        }
        return false;
      }
    };
    while (input.next()) {
      switch (input.c) {
        case "\\":
          if (input.next()) {
            switch (input.c) {
              case "\\":
                b.push(input.c.charCodeAt(0));
                break;
              case "b":
                b.push(8);
                break;
              case "f":
                b.push(12);
                break;
              case "n":
                b.push(10);
                break;
              case "r":
                b.push(13);
                break;
              case "t":
                b.push(9);
                break;
              case "v":
                b.push(11);
                break;
              case "0":
              case "1":
              case "2":
              case "3":
              case "4":
              case "5":
              case "6":
              case "7": {
                const s = input.c;
                const t = input.take(2);
                if (t === false) {
                  return false;
                }
                const n = parseInt(s + t, 8);
                if (Number.isNaN(n)) {
                  return false;
                }
                b.push(n);
                break;
              }
              case "x": {
                const s = input.c;
                const t = input.take(2);
                if (t === false) {
                  return false;
                }
                const n = parseInt(s + t, 16);
                if (Number.isNaN(n)) {
                  return false;
                }
                b.push(n);
                break;
              }
              case "u": {
                const s = input.c;
                const t = input.take(4);
                if (t === false) {
                  return false;
                }
                const n = parseInt(s + t, 16);
                if (Number.isNaN(n)) {
                  return false;
                }
                const chunk = new Uint8Array(4);
                const view = new DataView(chunk.buffer);
                view.setInt32(0, n, true);
                b.push(chunk[0], chunk[1], chunk[2], chunk[3]);
                break;
              }
              case "U": {
                const s = input.c;
                const t = input.take(8);
                if (t === false) {
                  return false;
                }
                const tc = protoInt64.uEnc(s + t);
                const chunk = new Uint8Array(8);
                const view = new DataView(chunk.buffer);
                view.setInt32(0, tc.lo, true);
                view.setInt32(4, tc.hi, true);
                b.push(chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]);
                break;
              }
            }
          }
          break;
        default:
          b.push(input.c.charCodeAt(0));
      }
    }
    return new Uint8Array(b);
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/reflect/nested-types.js
  function* nestedTypes(desc) {
    switch (desc.kind) {
      case "file":
        for (const message of desc.messages) {
          yield message;
          yield* nestedTypes(message);
        }
        yield* desc.enums;
        yield* desc.services;
        yield* desc.extensions;
        break;
      case "message":
        for (const message of desc.nestedMessages) {
          yield message;
          yield* nestedTypes(message);
        }
        yield* desc.nestedEnums;
        yield* desc.nestedExtensions;
        break;
    }
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/wire/text-encoding.js
  var te;
  function configureTextEncoding(textEncoding) {
    var _a;
    te = Object.assign(Object.assign({}, textEncoding), { encodeUtf8Into: (_a = textEncoding.encodeUtf8Into) !== null && _a !== void 0 ? _a : emulateEncodeInto(textEncoding.encodeUtf8.bind(textEncoding)) });
  }
  function getTextEncoding() {
    if (!te) {
      const globals = globalThis;
      if (!globals.TextEncoder || !globals.TextDecoder) {
        throw new Error("encoding API missing: install TextEncoder and TextDecoder on globalThis");
      }
      const textEncoder = new globals.TextEncoder();
      const textDecoder = new globals.TextDecoder("utf-8", {
        ignoreBOM: true
      });
      let textDecoderStrict;
      const config = {
        encodeUtf8(text) {
          return textEncoder.encode(text);
        },
        decodeUtf8(bytes, strict) {
          if (strict) {
            if (!textDecoderStrict) {
              textDecoderStrict = new globals.TextDecoder("utf-8", {
                fatal: true,
                ignoreBOM: true
              });
            }
            return textDecoderStrict.decode(bytes);
          }
          return textDecoder.decode(bytes);
        },
        checkUtf8(text) {
          try {
            encodeURIComponent(text);
            return true;
          } catch (_) {
            return false;
          }
        }
      };
      if (textEncoder.encodeInto) {
        config.encodeUtf8Into = textEncoder.encodeInto.bind(textEncoder);
      }
      const nativeStringIsWellFormed = String.prototype.isWellFormed;
      if (nativeStringIsWellFormed) {
        config.checkUtf8 = (text) => {
          return nativeStringIsWellFormed.call(text);
        };
      }
      configureTextEncoding(config);
    }
    return te;
  }
  function emulateEncodeInto(encodeUtf8) {
    return (text, dest) => {
      const bytes = encodeUtf8(text);
      dest.set(bytes);
      return { written: bytes.byteLength };
    };
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/wire/binary-encoding.js
  var WireType;
  (function(WireType2) {
    WireType2[WireType2["Varint"] = 0] = "Varint";
    WireType2[WireType2["Bit64"] = 1] = "Bit64";
    WireType2[WireType2["LengthDelimited"] = 2] = "LengthDelimited";
    WireType2[WireType2["StartGroup"] = 3] = "StartGroup";
    WireType2[WireType2["EndGroup"] = 4] = "EndGroup";
    WireType2[WireType2["Bit32"] = 5] = "Bit32";
  })(WireType || (WireType = {}));
  var UINT32_MAX = 4294967295;
  var INT32_MAX = 2147483647;
  var INT32_MIN = -2147483648;
  var BinaryWriter = class {
    constructor(encodeUtf8) {
      this.stackPos = [];
      this.encodeUtf8Into = encodeUtf8 ? emulateEncodeInto(encodeUtf8) : getTextEncoding().encodeUtf8Into;
      this.buffer = EMPTY_BUFFER;
      this.viewCache = EMPTY_VIEW;
      this.pos = 0;
    }
    ensureCapacity(size) {
      const required = this.pos + size;
      if (required > this.buffer.length) {
        let newLen = this.buffer.length || INITIAL_SIZE;
        while (newLen < required)
          newLen *= 2;
        const newBuf = new Uint8Array(newLen);
        if (this.pos > 0)
          newBuf.set(this.buffer);
        this.buffer = newBuf;
      }
    }
    /**
     * The DataView over `buffer`, rebuilt only if the buffer has grown since it
     * was last used.
     */
    view() {
      const bytes = this.buffer;
      const view = this.viewCache;
      if (view.byteLength === bytes.byteLength)
        return view;
      const newView = new DataView(bytes.buffer);
      this.viewCache = newView;
      return newView;
    }
    /**
     * Return all bytes written and reset this writer.
     */
    finish() {
      const result = this.buffer.slice(0, this.pos);
      this.pos = 0;
      this.stackPos = [];
      return result;
    }
    /**
     * Start a new fork for length-delimited data like a message
     * or a packed repeated field.
     *
     * Must be joined later with `join()`.
     */
    fork() {
      this.stackPos.push(this.pos);
      this.ensureCapacity(DEFAULT_LEN_PREFIX_SIZE);
      this.buffer[this.pos++] = 0;
      return this;
    }
    /**
     * Join the last fork. Write its length and bytes, then
     * return to the previous state.
     */
    join() {
      const forkPos = this.stackPos.pop();
      if (forkPos === void 0)
        throw new Error("invalid state, fork stack empty");
      const len = this.pos - forkPos - DEFAULT_LEN_PREFIX_SIZE;
      const lenPrefixSize = varint32Size(len);
      if (lenPrefixSize > DEFAULT_LEN_PREFIX_SIZE) {
        this.ensureCapacity(lenPrefixSize - DEFAULT_LEN_PREFIX_SIZE);
        this.buffer.copyWithin(forkPos + lenPrefixSize, forkPos + DEFAULT_LEN_PREFIX_SIZE, this.pos);
      }
      this.pos = forkPos;
      this.uint32(len);
      this.pos += len;
      return this;
    }
    /**
     * Writes a tag (field number and wire type).
     *
     * Equivalent to `uint32( (fieldNo << 3 | type) >>> 0 )`.
     *
     * Generated code should compute the tag ahead of time and call `uint32()`.
     */
    tag(fieldNo, type) {
      return this.uint32((fieldNo << 3 | type) >>> 0);
    }
    /**
     * Write a chunk of raw bytes.
     */
    raw(chunk) {
      this.ensureCapacity(chunk.length);
      this.buffer.set(chunk, this.pos);
      this.pos += chunk.length;
      return this;
    }
    /**
     * Write a `uint32` value, an unsigned 32 bit varint.
     */
    uint32(value) {
      assertUInt32(value);
      this.ensureCapacity(5);
      if (value < 128) {
        this.buffer[this.pos++] = value;
        return this;
      }
      while (value > 127) {
        this.buffer[this.pos++] = value & 127 | 128;
        value >>>= 7;
      }
      this.buffer[this.pos++] = value;
      return this;
    }
    /**
     * Write a `int32` value, a signed 32 bit varint.
     */
    int32(value) {
      assertInt32(value);
      if (value >= 0) {
        return this.uint32(value);
      }
      this.ensureCapacity(10);
      for (let i = 0; i < 9; i++) {
        this.buffer[this.pos++] = value & 127 | 128;
        value >>= 7;
      }
      this.buffer[this.pos++] = 1;
      return this;
    }
    /**
     * Write a `bool` value, a varint.
     */
    bool(value) {
      this.ensureCapacity(1);
      this.buffer[this.pos++] = value ? 1 : 0;
      return this;
    }
    /**
     * Write a `bytes` value, length-delimited arbitrary data.
     */
    bytes(value) {
      this.uint32(value.byteLength);
      return this.raw(value);
    }
    /**
     * Write a `string` value, length-delimited data converted to UTF-8 text.
     */
    string(value) {
      if (typeof value !== "string") {
        value = String(value);
      }
      const len = value.length;
      if (len <= ASCII_MAX_LENGTH) {
        this.ensureCapacity(len + 1);
        const ascii = this.buffer;
        let pos = this.pos;
        ascii[pos++] = len;
        let i = 0;
        for (; i < len; i++) {
          const code = value.charCodeAt(i);
          if (code > 127)
            break;
          ascii[pos++] = code;
        }
        if (i == len) {
          this.pos = pos;
          return this;
        }
      }
      this.ensureCapacity(len * 3 + 5);
      const lenPrefixSizeGuess = varint32Size(len);
      const buf = this.buffer;
      const start = this.pos;
      const { written } = this.encodeUtf8Into(value, buf.subarray(start + lenPrefixSizeGuess));
      const lenPrefixSize = varint32Size(written);
      if (lenPrefixSize != lenPrefixSizeGuess) {
        buf.copyWithin(start + lenPrefixSize, start + lenPrefixSizeGuess, start + lenPrefixSizeGuess + written);
      }
      this.uint32(written);
      this.pos += written;
      return this;
    }
    /**
     * Write a `float` value, 32-bit floating point number.
     */
    float(value) {
      assertFloat32(value);
      this.ensureCapacity(4);
      this.view().setFloat32(this.pos, value, true);
      this.pos += 4;
      return this;
    }
    /**
     * Write a `double` value, a 64-bit floating point number.
     */
    double(value) {
      this.ensureCapacity(8);
      this.view().setFloat64(this.pos, value, true);
      this.pos += 8;
      return this;
    }
    /**
     * Write a `fixed32` value, an unsigned, fixed-length 32-bit integer.
     */
    fixed32(value) {
      assertUInt32(value);
      this.ensureCapacity(4);
      this.view().setUint32(this.pos, value, true);
      this.pos += 4;
      return this;
    }
    /**
     * Write a `sfixed32` value, a signed, fixed-length 32-bit integer.
     */
    sfixed32(value) {
      assertInt32(value);
      this.ensureCapacity(4);
      this.view().setInt32(this.pos, value, true);
      this.pos += 4;
      return this;
    }
    /**
     * Write a `sint32` value, a signed, zigzag-encoded 32-bit varint.
     */
    sint32(value) {
      assertInt32(value);
      return this.uint32((value << 1 ^ value >> 31) >>> 0);
    }
    /**
     * Write a `sfixed64` value, a signed, fixed-length 64-bit integer.
     */
    sfixed64(value) {
      const tc = protoInt64.enc(value);
      this.ensureCapacity(8);
      const view = this.view();
      view.setInt32(this.pos, tc.lo, true);
      view.setInt32(this.pos + 4, tc.hi, true);
      this.pos += 8;
      return this;
    }
    /**
     * Write a `fixed64` value, an unsigned, fixed-length 64 bit integer.
     */
    fixed64(value) {
      const tc = protoInt64.uEnc(value);
      this.ensureCapacity(8);
      const view = this.view();
      view.setInt32(this.pos, tc.lo, true);
      view.setInt32(this.pos + 4, tc.hi, true);
      this.pos += 8;
      return this;
    }
    /**
     * Write a `int64` value, a signed 64-bit varint.
     */
    int64(value) {
      const tc = protoInt64.enc(value);
      return this.writeVarint64(tc.lo, tc.hi);
    }
    /**
     * Write a `sint64` value, a signed, zig-zag-encoded 64-bit varint.
     */
    sint64(value) {
      const tc = protoInt64.enc(value), sign = tc.hi >> 31, lo = tc.lo << 1 ^ sign, hi = (tc.hi << 1 | tc.lo >>> 31) ^ sign;
      return this.writeVarint64(lo, hi);
    }
    /**
     * Write a `uint64` value, an unsigned 64-bit varint.
     */
    uint64(value) {
      const tc = protoInt64.uEnc(value);
      return this.writeVarint64(tc.lo, tc.hi);
    }
    /**
     * Write a 64-bit varint directly into the buffer. Accepts the value as
     * split low/high 32-bit words.
     *
     * Ported from varint64write() to avoid the intermediate number[] buffer.
     * See https://github.com/protocolbuffers/protobuf/blob/8a71927d74a4ce34efe2d8769fda198f52d20d12/js/experimental/runtime/kernel/writer.js#L344
     */
    writeVarint64(lo, hi) {
      this.ensureCapacity(10);
      const buf = this.buffer;
      let pos = this.pos;
      for (let i = 0; i < 28; i = i + 7) {
        const shift = lo >>> i;
        const hasNext = !(shift >>> 7 == 0 && hi == 0);
        buf[pos++] = (hasNext ? shift | 128 : shift) & 255;
        if (!hasNext) {
          this.pos = pos;
          return this;
        }
      }
      const splitBits = lo >>> 28 & 15 | (hi & 7) << 4;
      const hasMoreBits = !(hi >> 3 == 0);
      buf[pos++] = (hasMoreBits ? splitBits | 128 : splitBits) & 255;
      if (!hasMoreBits) {
        this.pos = pos;
        return this;
      }
      for (let i = 3; i < 31; i = i + 7) {
        const shift = hi >>> i;
        const hasNext = !(shift >>> 7 == 0);
        buf[pos++] = (hasNext ? shift | 128 : shift) & 255;
        if (!hasNext) {
          this.pos = pos;
          return this;
        }
      }
      buf[pos++] = hi >>> 31 & 1;
      this.pos = pos;
      return this;
    }
  };
  var INITIAL_SIZE = 128;
  var DEFAULT_LEN_PREFIX_SIZE = 1;
  var EMPTY_BUFFER = new Uint8Array(0);
  var EMPTY_VIEW = new DataView(EMPTY_BUFFER.buffer);
  var ASCII_MAX_LENGTH = 32;
  function varint32Size(value) {
    if (value < 128)
      return 1;
    if (value < 16384)
      return 2;
    if (value < 2097152)
      return 3;
    if (value < 268435456)
      return 4;
    return 5;
  }
  var BinaryReader = class {
    constructor(buf, decodeUtf8 = getTextEncoding().decodeUtf8) {
      this.decodeUtf8 = decodeUtf8;
      this.varint64Lo = 0;
      this.varint64Hi = 0;
      this.varint64 = varint64read;
      this.uint32 = varint32read;
      this.buf = buf;
      this.len = buf.length;
      this.pos = 0;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    /**
     * Reads a tag - field number and wire type. Tags are uint32 varints; values
     * that do not fit in uint32 are rejected.
     */
    tag() {
      const start = this.pos;
      const tag = this.uint32();
      const bytesRead = this.pos - start;
      if (bytesRead > 5 || bytesRead == 5 && this.buf[this.pos - 1] > 15) {
        throw new Error("illegal tag: varint overflows uint32");
      }
      const fieldNo = tag >>> 3;
      const wireType = tag & 7;
      if (fieldNo <= 0 || wireType > 5) {
        throw new Error("illegal tag: field no " + fieldNo + " wire type " + wireType);
      }
      return [fieldNo, wireType];
    }
    /**
     * Skip one element and return the skipped data.
     *
     * When skipping StartGroup, provide the tags field number to check for
     * matching field number in the EndGroup tag. Recursion into nested groups
     * is guarded by the `recursionLimit` argument: When the limit is reached,
     * this method throws.
     */
    skip(wireType, fieldNo, recursionLimit = 100) {
      let start = this.pos;
      switch (wireType) {
        case WireType.Varint:
          while (this.buf[this.pos++] & 128) {
          }
          break;
        // @ts-ignore TS7029: Fallthrough case in switch -- ignore instead of expect-error for compiler settings without noFallthroughCasesInSwitch: true
        case WireType.Bit64:
          this.pos += 4;
        case WireType.Bit32:
          this.pos += 4;
          break;
        case WireType.LengthDelimited:
          let len = this.uint32();
          this.pos += len;
          break;
        case WireType.StartGroup:
          if (recursionLimit <= 0) {
            throw new Error("maximum recursion depth reached");
          }
          for (; ; ) {
            const [fn, wt] = this.tag();
            if (wt === WireType.EndGroup) {
              if (fieldNo !== void 0 && fn !== fieldNo) {
                throw new Error("invalid end group tag");
              }
              break;
            }
            this.skip(wt, fn, recursionLimit - 1);
          }
          break;
        default:
          throw new Error("cant skip wire type " + wireType);
      }
      this.assertBounds();
      return this.buf.subarray(start, this.pos);
    }
    /**
     * Throws error if position in byte array is out of range.
     */
    assertBounds() {
      if (this.pos > this.len)
        throw new RangeError("premature EOF");
    }
    /**
     * Read a `int32` field, a signed 32 bit varint.
     */
    int32() {
      return this.uint32() | 0;
    }
    /**
     * Read a `sint32` field, a signed, zigzag-encoded 32-bit varint.
     */
    sint32() {
      let zze = this.uint32();
      return zze >>> 1 ^ -(zze & 1);
    }
    /**
     * Read a `int64` field, a signed 64-bit varint.
     */
    int64() {
      this.varint64();
      return protoInt64.dec(this.varint64Lo, this.varint64Hi);
    }
    /**
     * Read a `uint64` field, an unsigned 64-bit varint.
     */
    uint64() {
      this.varint64();
      return protoInt64.uDec(this.varint64Lo, this.varint64Hi);
    }
    /**
     * Read a `sint64` field, a signed, zig-zag-encoded 64-bit varint.
     */
    sint64() {
      this.varint64();
      let lo = this.varint64Lo;
      let hi = this.varint64Hi;
      let s = -(lo & 1);
      lo = (lo >>> 1 | (hi & 1) << 31) ^ s;
      hi = hi >>> 1 ^ s;
      return protoInt64.dec(lo, hi);
    }
    /**
     * Read a `bool` field, a variant.
     */
    bool() {
      const b = this.buf[this.pos];
      if (b < 128) {
        this.pos++;
        return b !== 0;
      }
      this.varint64();
      return this.varint64Lo !== 0 || this.varint64Hi !== 0;
    }
    /**
     * Read a `fixed32` field, an unsigned, fixed-length 32-bit integer.
     */
    fixed32() {
      return this.view.getUint32((this.pos += 4) - 4, true);
    }
    /**
     * Read a `sfixed32` field, a signed, fixed-length 32-bit integer.
     */
    sfixed32() {
      return this.view.getInt32((this.pos += 4) - 4, true);
    }
    /**
     * Read a `fixed64` field, an unsigned, fixed-length 64 bit integer.
     */
    fixed64() {
      return protoInt64.uDec(this.sfixed32(), this.sfixed32());
    }
    /**
     * Read a `fixed64` field, a signed, fixed-length 64-bit integer.
     */
    sfixed64() {
      return protoInt64.dec(this.sfixed32(), this.sfixed32());
    }
    /**
     * Read a `float` field, 32-bit floating point number.
     */
    float() {
      return this.view.getFloat32((this.pos += 4) - 4, true);
    }
    /**
     * Read a `double` field, a 64-bit floating point number.
     */
    double() {
      return this.view.getFloat64((this.pos += 8) - 8, true);
    }
    /**
     * Read a `bytes` field, length-delimited arbitrary data.
     */
    bytes() {
      let len = this.uint32(), start = this.pos;
      this.pos += len;
      this.assertBounds();
      return this.buf.subarray(start, start + len);
    }
    /**
     * Read a `string` field, length-delimited data converted to UTF-8 text. If
     * `strict` is true, throw on invalid UTF-8 instead of substituting U+FFFD.
     */
    string(strict) {
      const len = this.uint32();
      const start = this.pos;
      this.pos += len;
      this.assertBounds();
      const buf = this.buf;
      if (len <= ASCII_MAX_LENGTH) {
        const codes = new Array(len);
        for (let i = 0; i < len; i++) {
          const byte = buf[start + i];
          if (byte > 127) {
            return this.decodeUtf8(buf.subarray(start, this.pos), strict);
          }
          codes[i] = byte;
        }
        return String.fromCharCode.apply(String, codes);
      }
      return this.decodeUtf8(buf.subarray(start, this.pos), strict);
    }
  };
  function assertInt32(arg) {
    if (typeof arg == "string") {
      arg = Number(arg);
    } else if (typeof arg != "number") {
      throw new Error("invalid int32: " + typeof arg);
    }
    if (!Number.isInteger(arg) || arg > INT32_MAX || arg < INT32_MIN)
      throw new Error("invalid int32: " + arg);
  }
  function assertUInt32(arg) {
    if (typeof arg == "string") {
      arg = Number(arg);
    } else if (typeof arg != "number") {
      throw new Error("invalid uint32: " + typeof arg);
    }
    if (!Number.isInteger(arg) || arg > UINT32_MAX || arg < 0)
      throw new Error("invalid uint32: " + arg);
  }
  function assertFloat32(arg) {
    if (typeof arg == "string") {
      const o = arg;
      arg = Number(arg);
      if (Number.isNaN(arg) && o !== "NaN") {
        throw new Error("invalid float32: " + o);
      }
    } else if (typeof arg != "number") {
      throw new Error("invalid float32: " + typeof arg);
    }
    if (!Number.isFinite(Math.fround(arg)) && Number.isFinite(arg)) {
      throw new Error("invalid float32: " + arg);
    }
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/registry.js
  function createEmbeddedFileRegistry(fileDescriptorProto, resolve) {
    return buildFileRegistry([fileDescriptorProto, resolve]);
  }
  function buildFileRegistry(args, check) {
    const registry = createBaseRegistry();
    if (!args.length) {
      return registry;
    }
    if ("$typeName" in args[0] && args[0].$typeName == "google.protobuf.FileDescriptorSet") {
      for (const file of args[0].file) {
        check === null || check === void 0 ? void 0 : check(file);
        addFile(file, registry);
      }
      return registry;
    }
    if ("$typeName" in args[0]) {
      let recurseDeps = function(file) {
        const deps = [];
        for (const protoFileName of file.dependency) {
          if (registry.getFile(protoFileName) != void 0) {
            continue;
          }
          if (seen.has(protoFileName)) {
            continue;
          }
          const dep = resolve(protoFileName);
          if (!dep) {
            throw new Error(`Unable to resolve ${protoFileName}, imported by ${file.name}`);
          }
          if ("kind" in dep) {
            registry.addFile(dep, false, true);
          } else {
            seen.add(dep.name);
            deps.push(dep);
          }
        }
        return deps.concat(...deps.map(recurseDeps));
      };
      const input = args[0];
      const resolve = args[1];
      const seen = /* @__PURE__ */ new Set();
      for (const file of [input, ...recurseDeps(input)].reverse()) {
        check === null || check === void 0 ? void 0 : check(file);
        addFile(file, registry);
      }
    } else {
      for (const fileReg of args) {
        for (const file of fileReg.files) {
          registry.addFile(file);
        }
      }
    }
    return registry;
  }
  function createBaseRegistry() {
    const types = /* @__PURE__ */ new Map();
    const extendees = /* @__PURE__ */ new Map();
    const files = /* @__PURE__ */ new Map();
    return {
      kind: "registry",
      types,
      extendees,
      [Symbol.iterator]() {
        return types.values();
      },
      get files() {
        return files.values();
      },
      addFile(file, skipTypes, withDeps) {
        files.set(file.proto.name, file);
        if (!skipTypes) {
          for (const type of nestedTypes(file)) {
            this.add(type);
          }
        }
        if (withDeps) {
          for (const f of file.dependencies) {
            this.addFile(f, skipTypes, withDeps);
          }
        }
      },
      add(desc) {
        if (desc.kind == "extension") {
          let numberToExt = extendees.get(desc.extendee.typeName);
          if (!numberToExt) {
            extendees.set(
              desc.extendee.typeName,
              // biome-ignore lint/suspicious/noAssignInExpressions: no
              numberToExt = /* @__PURE__ */ new Map()
            );
          }
          numberToExt.set(desc.number, desc);
        }
        types.set(desc.typeName, desc);
      },
      get(typeName) {
        return types.get(typeName);
      },
      getFile(fileName) {
        return files.get(fileName);
      },
      getMessage(typeName) {
        const t = types.get(typeName);
        return (t === null || t === void 0 ? void 0 : t.kind) == "message" ? t : void 0;
      },
      getEnum(typeName) {
        const t = types.get(typeName);
        return (t === null || t === void 0 ? void 0 : t.kind) == "enum" ? t : void 0;
      },
      getExtension(typeName) {
        const t = types.get(typeName);
        return (t === null || t === void 0 ? void 0 : t.kind) == "extension" ? t : void 0;
      },
      getExtensionFor(extendee, no) {
        var _a;
        return (_a = extendees.get(extendee.typeName)) === null || _a === void 0 ? void 0 : _a.get(no);
      },
      getService(typeName) {
        const t = types.get(typeName);
        return (t === null || t === void 0 ? void 0 : t.kind) == "service" ? t : void 0;
      }
    };
  }
  var EDITION_PROTO2 = 998;
  var EDITION_PROTO3 = 999;
  var EDITION_UNSTABLE = 9999;
  var TYPE_STRING = 9;
  var TYPE_GROUP = 10;
  var TYPE_MESSAGE = 11;
  var TYPE_BYTES = 12;
  var TYPE_ENUM = 14;
  var LABEL_REPEATED = 3;
  var LABEL_REQUIRED = 2;
  var JS_STRING = 1;
  var IDEMPOTENCY_UNKNOWN = 0;
  var EXPLICIT = 1;
  var IMPLICIT = 2;
  var LEGACY_REQUIRED = 3;
  var PACKED = 1;
  var DELIMITED = 2;
  var OPEN = 1;
  var VERIFY = 2;
  var maximumEdition = 1002;
  var featureDefaults = {
    // EDITION_PROTO2
    998: {
      fieldPresence: 1,
      // EXPLICIT,
      enumType: 2,
      // CLOSED,
      repeatedFieldEncoding: 2,
      // EXPANDED,
      utf8Validation: 3,
      // NONE,
      messageEncoding: 1,
      // LENGTH_PREFIXED,
      jsonFormat: 2,
      // LEGACY_BEST_EFFORT,
      enforceNamingStyle: 2,
      // STYLE_LEGACY,
      defaultSymbolVisibility: 1,
      // EXPORT_ALL,
      enforceProtoLimits: 1
      // LEGACY_NO_EXPLICIT_LIMITS,
    },
    // EDITION_PROTO3
    999: {
      fieldPresence: 2,
      // IMPLICIT,
      enumType: 1,
      // OPEN,
      repeatedFieldEncoding: 1,
      // PACKED,
      utf8Validation: 2,
      // VERIFY,
      messageEncoding: 1,
      // LENGTH_PREFIXED,
      jsonFormat: 1,
      // ALLOW,
      enforceNamingStyle: 2,
      // STYLE_LEGACY,
      defaultSymbolVisibility: 1,
      // EXPORT_ALL,
      enforceProtoLimits: 1
      // LEGACY_NO_EXPLICIT_LIMITS,
    },
    // EDITION_2023
    1e3: {
      fieldPresence: 1,
      // EXPLICIT,
      enumType: 1,
      // OPEN,
      repeatedFieldEncoding: 1,
      // PACKED,
      utf8Validation: 2,
      // VERIFY,
      messageEncoding: 1,
      // LENGTH_PREFIXED,
      jsonFormat: 1,
      // ALLOW,
      enforceNamingStyle: 2,
      // STYLE_LEGACY,
      defaultSymbolVisibility: 1,
      // EXPORT_ALL,
      enforceProtoLimits: 1
      // LEGACY_NO_EXPLICIT_LIMITS,
    },
    // EDITION_2024
    1001: {
      fieldPresence: 1,
      // EXPLICIT,
      enumType: 1,
      // OPEN,
      repeatedFieldEncoding: 1,
      // PACKED,
      utf8Validation: 2,
      // VERIFY,
      messageEncoding: 1,
      // LENGTH_PREFIXED,
      jsonFormat: 1,
      // ALLOW,
      enforceNamingStyle: 1,
      // STYLE2024,
      defaultSymbolVisibility: 2,
      // EXPORT_TOP_LEVEL,
      enforceProtoLimits: 1
      // LEGACY_NO_EXPLICIT_LIMITS,
    },
    // EDITION_2026
    1002: {
      fieldPresence: 1,
      // EXPLICIT,
      enumType: 1,
      // OPEN,
      repeatedFieldEncoding: 1,
      // PACKED,
      utf8Validation: 2,
      // VERIFY,
      messageEncoding: 1,
      // LENGTH_PREFIXED,
      jsonFormat: 1,
      // ALLOW,
      enforceNamingStyle: 3,
      // STYLE2026,
      defaultSymbolVisibility: 4,
      // STRICT,
      enforceProtoLimits: 2
      // PROTO_LIMITS2026,
    }
  };
  function addFile(proto, reg) {
    var _a, _b;
    const file = {
      kind: "file",
      proto,
      deprecated: (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.deprecated) !== null && _b !== void 0 ? _b : false,
      edition: getFileEdition(proto),
      name: proto.name.replace(/\.proto$/, ""),
      dependencies: findFileDependencies(proto, reg),
      enums: [],
      messages: [],
      extensions: [],
      services: [],
      toString() {
        return `file ${proto.name}`;
      }
    };
    const mapEntriesStore = /* @__PURE__ */ new Map();
    const mapEntries = {
      get(typeName) {
        return mapEntriesStore.get(typeName);
      },
      add(desc) {
        var _a2;
        assert(((_a2 = desc.proto.options) === null || _a2 === void 0 ? void 0 : _a2.mapEntry) === true);
        mapEntriesStore.set(desc.typeName, desc);
      }
    };
    for (const enumProto of proto.enumType) {
      addEnum(enumProto, file, void 0, reg);
    }
    for (const messageProto of proto.messageType) {
      addMessage(messageProto, file, void 0, reg, mapEntries);
    }
    for (const serviceProto of proto.service) {
      addService(serviceProto, file, reg);
    }
    addExtensions(file, reg);
    for (const mapEntry of mapEntriesStore.values()) {
      addFields(mapEntry, reg, mapEntries);
    }
    for (const message of file.messages) {
      addFields(message, reg, mapEntries);
      addExtensions(message, reg);
    }
    reg.addFile(file, true);
  }
  function addExtensions(desc, reg) {
    switch (desc.kind) {
      case "file":
        for (const proto of desc.proto.extension) {
          const ext = newField(proto, desc, reg);
          desc.extensions.push(ext);
          reg.add(ext);
        }
        break;
      case "message":
        for (const proto of desc.proto.extension) {
          const ext = newField(proto, desc, reg);
          desc.nestedExtensions.push(ext);
          reg.add(ext);
        }
        for (const message of desc.nestedMessages) {
          addExtensions(message, reg);
        }
        break;
    }
  }
  function addFields(message, reg, mapEntries) {
    const allOneofs = message.proto.oneofDecl.map((proto) => newOneof(proto, message));
    const oneofsSeen = /* @__PURE__ */ new Set();
    for (const proto of message.proto.field) {
      const oneof = findOneof(proto, allOneofs);
      const field = newField(proto, message, reg, oneof, mapEntries);
      message.fields.push(field);
      message.field[field.localName] = field;
      if (oneof === void 0) {
        message.members.push(field);
      } else {
        oneof.fields.push(field);
        if (!oneofsSeen.has(oneof)) {
          oneofsSeen.add(oneof);
          message.members.push(oneof);
        }
      }
    }
    for (const oneof of allOneofs.filter((o) => oneofsSeen.has(o))) {
      message.oneofs.push(oneof);
    }
    for (const child of message.nestedMessages) {
      addFields(child, reg, mapEntries);
    }
  }
  function addEnum(proto, file, parent, reg) {
    var _a, _b, _c, _d, _e, _f, _g;
    var _h, _j;
    const sharedPrefix = findEnumSharedPrefix(proto.name, proto.value);
    const desc = {
      kind: "enum",
      proto,
      deprecated: (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.deprecated) !== null && _b !== void 0 ? _b : false,
      file,
      parent,
      open: true,
      name: proto.name,
      typeName: makeTypeName(proto, parent, file),
      value: {},
      values: [],
      sharedPrefix,
      toString() {
        return `enum ${this.typeName}`;
      }
    };
    desc.open = isEnumOpen(desc);
    reg.add(desc);
    for (const p of proto.value) {
      const name = p.name;
      const value = {
        kind: "enum_value",
        proto: p,
        deprecated: (_d = (_c = p.options) === null || _c === void 0 ? void 0 : _c.deprecated) !== null && _d !== void 0 ? _d : false,
        parent: desc,
        name,
        localName: safeObjectProperty(sharedPrefix == void 0 ? name : name.substring(sharedPrefix.length)),
        number: p.number,
        jsonName: (_e = findEnumValueJsonName(p)) !== null && _e !== void 0 ? _e : name,
        toString() {
          return `enum value ${desc.typeName}.${name}`;
        }
      };
      desc.values.push(value);
      (_f = (_h = desc.value)[_j = p.number]) !== null && _f !== void 0 ? _f : _h[_j] = value;
    }
    ((_g = parent === null || parent === void 0 ? void 0 : parent.nestedEnums) !== null && _g !== void 0 ? _g : file.enums).push(desc);
  }
  function addMessage(proto, file, parent, reg, mapEntries) {
    var _a, _b, _c, _d;
    const desc = {
      kind: "message",
      proto,
      deprecated: (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.deprecated) !== null && _b !== void 0 ? _b : false,
      file,
      parent,
      name: proto.name,
      typeName: makeTypeName(proto, parent, file),
      fields: [],
      field: {},
      oneofs: [],
      members: [],
      nestedEnums: [],
      nestedMessages: [],
      nestedExtensions: [],
      toString() {
        return `message ${this.typeName}`;
      }
    };
    if (((_c = proto.options) === null || _c === void 0 ? void 0 : _c.mapEntry) === true) {
      mapEntries.add(desc);
    } else {
      ((_d = parent === null || parent === void 0 ? void 0 : parent.nestedMessages) !== null && _d !== void 0 ? _d : file.messages).push(desc);
      reg.add(desc);
    }
    for (const enumProto of proto.enumType) {
      addEnum(enumProto, file, desc, reg);
    }
    for (const messageProto of proto.nestedType) {
      addMessage(messageProto, file, desc, reg, mapEntries);
    }
  }
  function addService(proto, file, reg) {
    var _a, _b;
    const desc = {
      kind: "service",
      proto,
      deprecated: (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.deprecated) !== null && _b !== void 0 ? _b : false,
      file,
      name: proto.name,
      typeName: makeTypeName(proto, void 0, file),
      methods: [],
      method: {},
      toString() {
        return `service ${this.typeName}`;
      }
    };
    file.services.push(desc);
    reg.add(desc);
    for (const methodProto of proto.method) {
      const method = newMethod(methodProto, desc, reg);
      desc.methods.push(method);
      desc.method[method.localName] = method;
    }
  }
  function newMethod(proto, parent, reg) {
    var _a, _b, _c, _d;
    let methodKind;
    if (proto.clientStreaming && proto.serverStreaming) {
      methodKind = "bidi_streaming";
    } else if (proto.clientStreaming) {
      methodKind = "client_streaming";
    } else if (proto.serverStreaming) {
      methodKind = "server_streaming";
    } else {
      methodKind = "unary";
    }
    const input = reg.getMessage(trimLeadingDot(proto.inputType));
    const output = reg.getMessage(trimLeadingDot(proto.outputType));
    assert(input, `invalid MethodDescriptorProto: input_type ${proto.inputType} not found`);
    assert(output, `invalid MethodDescriptorProto: output_type ${proto.inputType} not found`);
    const name = proto.name;
    return {
      kind: "rpc",
      proto,
      deprecated: (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.deprecated) !== null && _b !== void 0 ? _b : false,
      parent,
      name,
      localName: safeObjectProperty(name.length ? safeObjectProperty(name[0].toLowerCase() + name.substring(1)) : name),
      methodKind,
      input,
      output,
      idempotency: (_d = (_c = proto.options) === null || _c === void 0 ? void 0 : _c.idempotencyLevel) !== null && _d !== void 0 ? _d : IDEMPOTENCY_UNKNOWN,
      toString() {
        return `rpc ${parent.typeName}.${name}`;
      }
    };
  }
  function newOneof(proto, parent) {
    return {
      kind: "oneof",
      proto,
      deprecated: false,
      parent,
      fields: [],
      name: proto.name,
      localName: safeObjectProperty(protoCamelCase(proto.name)),
      toString() {
        return `oneof ${parent.typeName}.${this.name}`;
      }
    };
  }
  function newField(proto, parentOrFile, reg, oneof, mapEntries) {
    var _a, _b, _c;
    const isExtension = mapEntries === void 0;
    const field = {
      kind: "field",
      proto,
      deprecated: (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.deprecated) !== null && _b !== void 0 ? _b : false,
      name: proto.name,
      number: proto.number,
      scalar: void 0,
      message: void 0,
      enum: void 0,
      presence: getFieldPresence(proto, oneof, isExtension, parentOrFile),
      utf8Validation: isUtf8Validated(proto, parentOrFile),
      listKind: void 0,
      mapKind: void 0,
      mapKey: void 0,
      delimitedEncoding: void 0,
      packed: void 0,
      longAsString: false,
      getDefaultValue: void 0
    };
    let toStr;
    if (isExtension) {
      const file = parentOrFile.kind == "file" ? parentOrFile : parentOrFile.file;
      const parent = parentOrFile.kind == "file" ? void 0 : parentOrFile;
      const typeName = makeTypeName(proto, parent, file);
      field.kind = "extension";
      field.file = file;
      field.parent = parent;
      field.oneof = void 0;
      field.typeName = typeName;
      field.jsonName = `[${typeName}]`;
      toStr = () => `extension ${typeName}`;
      const extendee = reg.getMessage(trimLeadingDot(proto.extendee));
      assert(extendee, `invalid FieldDescriptorProto: extendee ${proto.extendee} not found`);
      field.extendee = extendee;
    } else {
      const parent = parentOrFile;
      assert(parent.kind == "message");
      field.parent = parent;
      field.oneof = oneof;
      field.localName = oneof ? protoCamelCase(proto.name) : safeObjectProperty(protoCamelCase(proto.name));
      field.jsonName = proto.jsonName;
      toStr = () => `field ${parent.typeName}.${proto.name}`;
    }
    Object.defineProperty(field, "toString", {
      value: toStr,
      writable: true,
      enumerable: true,
      configurable: true
    });
    const label = proto.label;
    const type = proto.type;
    const jstype = (_c = proto.options) === null || _c === void 0 ? void 0 : _c.jstype;
    if (label === LABEL_REPEATED) {
      const mapEntry = type == TYPE_MESSAGE ? mapEntries === null || mapEntries === void 0 ? void 0 : mapEntries.get(trimLeadingDot(proto.typeName)) : void 0;
      if (mapEntry) {
        field.fieldKind = "map";
        const { key, value } = findMapEntryFields(mapEntry);
        field.mapKey = key.scalar;
        field.mapKind = value.fieldKind;
        field.message = value.message;
        field.delimitedEncoding = false;
        field.enum = value.enum;
        field.scalar = value.scalar;
        return field;
      }
      field.fieldKind = "list";
      switch (type) {
        case TYPE_MESSAGE:
        case TYPE_GROUP:
          field.listKind = "message";
          field.message = reg.getMessage(trimLeadingDot(proto.typeName));
          assert(field.message);
          field.delimitedEncoding = isDelimitedEncoding(proto, parentOrFile);
          break;
        case TYPE_ENUM:
          field.listKind = "enum";
          field.enum = reg.getEnum(trimLeadingDot(proto.typeName));
          assert(field.enum);
          break;
        default:
          field.listKind = "scalar";
          field.scalar = type;
          field.longAsString = jstype == JS_STRING;
          break;
      }
      field.packed = isPackedField(proto, parentOrFile);
      return field;
    }
    switch (type) {
      case TYPE_MESSAGE:
      case TYPE_GROUP:
        field.fieldKind = "message";
        field.message = reg.getMessage(trimLeadingDot(proto.typeName));
        assert(field.message, `invalid FieldDescriptorProto: type_name ${proto.typeName} not found`);
        field.delimitedEncoding = isDelimitedEncoding(proto, parentOrFile);
        field.getDefaultValue = () => void 0;
        break;
      case TYPE_ENUM: {
        const enumeration = reg.getEnum(trimLeadingDot(proto.typeName));
        assert(enumeration !== void 0, `invalid FieldDescriptorProto: type_name ${proto.typeName} not found`);
        field.fieldKind = "enum";
        field.enum = reg.getEnum(trimLeadingDot(proto.typeName));
        field.getDefaultValue = () => {
          return unsafeIsSetExplicit(proto, "defaultValue") ? parseTextFormatEnumValue(enumeration, proto.defaultValue) : void 0;
        };
        break;
      }
      default: {
        field.fieldKind = "scalar";
        field.scalar = type;
        field.longAsString = jstype == JS_STRING;
        field.getDefaultValue = () => {
          return unsafeIsSetExplicit(proto, "defaultValue") ? parseTextFormatScalarValue(type, proto.defaultValue) : void 0;
        };
        break;
      }
    }
    return field;
  }
  function getFileEdition(proto) {
    switch (proto.syntax) {
      case "":
      case "proto2":
        return EDITION_PROTO2;
      case "proto3":
        return EDITION_PROTO3;
      case "editions":
        if (proto.edition === EDITION_UNSTABLE) {
          return maximumEdition;
        }
        if (proto.edition in featureDefaults) {
          return proto.edition;
        }
        throw new Error(`${proto.name}: unsupported edition`);
      default:
        throw new Error(`${proto.name}: unsupported syntax "${proto.syntax}"`);
    }
  }
  function findFileDependencies(proto, reg) {
    return proto.dependency.map((wantName) => {
      const dep = reg.getFile(wantName);
      if (!dep) {
        throw new Error(`Cannot find ${wantName}, imported by ${proto.name}`);
      }
      return dep;
    });
  }
  function findEnumSharedPrefix(enumName, values) {
    const prefix = camelToSnakeCase(enumName) + "_";
    for (const value of values) {
      if (!value.name.toLowerCase().startsWith(prefix)) {
        return void 0;
      }
      const shortName = value.name.substring(prefix.length);
      if (shortName.length == 0) {
        return void 0;
      }
      if (/^\d/.test(shortName)) {
        return void 0;
      }
    }
    return prefix;
  }
  function findEnumValueJsonName(proto) {
    var _a, _b;
    const extensionNumber = 998;
    const fieldNumber = 1;
    let jsonName;
    for (const uf of (_b = (_a = proto.options) === null || _a === void 0 ? void 0 : _a.$unknown) !== null && _b !== void 0 ? _b : []) {
      if (uf.no !== extensionNumber || uf.wireType !== WireType.LengthDelimited) {
        continue;
      }
      const reader = new BinaryReader(new BinaryReader(uf.data).bytes());
      while (reader.pos < reader.len) {
        const [no, wireType] = reader.tag();
        if (no === fieldNumber && wireType === WireType.LengthDelimited) {
          jsonName = reader.string();
        } else {
          reader.skip(wireType, no);
        }
      }
    }
    return jsonName;
  }
  function camelToSnakeCase(camel) {
    return (camel.substring(0, 1) + camel.substring(1).replace(/[A-Z]/g, (c) => "_" + c)).toLowerCase();
  }
  function makeTypeName(proto, parent, file) {
    let typeName;
    if (parent) {
      typeName = `${parent.typeName}.${proto.name}`;
    } else if (file.proto.package.length > 0) {
      typeName = `${file.proto.package}.${proto.name}`;
    } else {
      typeName = `${proto.name}`;
    }
    return typeName;
  }
  function trimLeadingDot(typeName) {
    return typeName.startsWith(".") ? typeName.substring(1) : typeName;
  }
  function findOneof(proto, allOneofs) {
    if (!unsafeIsSetExplicit(proto, "oneofIndex")) {
      return void 0;
    }
    if (proto.proto3Optional) {
      return void 0;
    }
    const oneof = allOneofs[proto.oneofIndex];
    assert(oneof, `invalid FieldDescriptorProto: oneof #${proto.oneofIndex} for field #${proto.number} not found`);
    return oneof;
  }
  function getFieldPresence(proto, oneof, isExtension, parent) {
    if (proto.label == LABEL_REQUIRED) {
      return LEGACY_REQUIRED;
    }
    if (proto.label == LABEL_REPEATED) {
      return IMPLICIT;
    }
    if (!!oneof || proto.proto3Optional) {
      return EXPLICIT;
    }
    if (isExtension) {
      return EXPLICIT;
    }
    const resolved = resolveFeature("fieldPresence", { proto, parent });
    if (resolved == IMPLICIT && (proto.type == TYPE_MESSAGE || proto.type == TYPE_GROUP)) {
      return EXPLICIT;
    }
    return resolved;
  }
  function isPackedField(proto, parent) {
    if (proto.label != LABEL_REPEATED) {
      return false;
    }
    switch (proto.type) {
      case TYPE_STRING:
      case TYPE_BYTES:
      case TYPE_GROUP:
      case TYPE_MESSAGE:
        return false;
    }
    const o = proto.options;
    if (o && unsafeIsSetExplicit(o, "packed")) {
      return o.packed;
    }
    return PACKED == resolveFeature("repeatedFieldEncoding", {
      proto,
      parent
    });
  }
  function findMapEntryFields(mapEntry) {
    const key = mapEntry.fields.find((f) => f.number === 1);
    const value = mapEntry.fields.find((f) => f.number === 2);
    assert(key && key.fieldKind == "scalar" && key.scalar != ScalarType.BYTES && key.scalar != ScalarType.FLOAT && key.scalar != ScalarType.DOUBLE && value && value.fieldKind != "list" && value.fieldKind != "map");
    return { key, value };
  }
  function isEnumOpen(desc) {
    var _a;
    return OPEN == resolveFeature("enumType", {
      proto: desc.proto,
      parent: (_a = desc.parent) !== null && _a !== void 0 ? _a : desc.file
    });
  }
  function isDelimitedEncoding(proto, parent) {
    if (proto.type == TYPE_GROUP) {
      return true;
    }
    return DELIMITED == resolveFeature("messageEncoding", {
      proto,
      parent
    });
  }
  function isUtf8Validated(proto, parent) {
    return VERIFY == resolveFeature("utf8Validation", {
      proto,
      parent
    });
  }
  function resolveFeature(name, ref) {
    var _a, _b;
    const featureSet = (_a = ref.proto.options) === null || _a === void 0 ? void 0 : _a.features;
    if (featureSet) {
      const val = featureSet[name];
      if (val != 0) {
        return val;
      }
    }
    if ("kind" in ref) {
      if (ref.kind == "message") {
        return resolveFeature(name, (_b = ref.parent) !== null && _b !== void 0 ? _b : ref.file);
      }
      const editionDefaults = featureDefaults[ref.edition];
      if (!editionDefaults) {
        throw new Error(`feature default for edition ${ref.edition} not found`);
      }
      return editionDefaults[name];
    }
    return resolveFeature(name, ref.parent);
  }
  function assert(condition, msg) {
    if (!condition) {
      throw new Error(msg);
    }
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/codegenv2/boot.js
  function boot(boot2) {
    const root = bootFileDescriptorProto(boot2);
    root.messageType.forEach(restoreJsonNames);
    const reg = createEmbeddedFileRegistry(root, () => void 0);
    return reg.getFile(root.name);
  }
  function bootFileDescriptorProto(init) {
    const proto = /* @__PURE__ */ Object.create({
      syntax: "",
      edition: 0
    });
    return Object.assign(proto, Object.assign(Object.assign({ $typeName: "google.protobuf.FileDescriptorProto", dependency: [], publicDependency: [], weakDependency: [], optionDependency: [], service: [], extension: [] }, init), { messageType: init.messageType.map(bootDescriptorProto), enumType: init.enumType.map(bootEnumDescriptorProto) }));
  }
  function bootDescriptorProto(init) {
    var _a, _b, _c, _d, _e, _f, _g, _h;
    const proto = /* @__PURE__ */ Object.create({
      visibility: 0
    });
    return Object.assign(proto, {
      $typeName: "google.protobuf.DescriptorProto",
      name: init.name,
      field: (_b = (_a = init.field) === null || _a === void 0 ? void 0 : _a.map(bootFieldDescriptorProto)) !== null && _b !== void 0 ? _b : [],
      extension: [],
      nestedType: (_d = (_c = init.nestedType) === null || _c === void 0 ? void 0 : _c.map(bootDescriptorProto)) !== null && _d !== void 0 ? _d : [],
      enumType: (_f = (_e = init.enumType) === null || _e === void 0 ? void 0 : _e.map(bootEnumDescriptorProto)) !== null && _f !== void 0 ? _f : [],
      extensionRange: (_h = (_g = init.extensionRange) === null || _g === void 0 ? void 0 : _g.map((e) => Object.assign({ $typeName: "google.protobuf.DescriptorProto.ExtensionRange" }, e))) !== null && _h !== void 0 ? _h : [],
      oneofDecl: [],
      reservedRange: [],
      reservedName: []
    });
  }
  function bootFieldDescriptorProto(init) {
    const proto = /* @__PURE__ */ Object.create({
      label: 1,
      typeName: "",
      extendee: "",
      defaultValue: "",
      oneofIndex: 0,
      jsonName: "",
      proto3Optional: false
    });
    return Object.assign(proto, Object.assign(Object.assign({ $typeName: "google.protobuf.FieldDescriptorProto" }, init), { options: init.options ? bootFieldOptions(init.options) : void 0 }));
  }
  function bootFieldOptions(init) {
    var _a, _b, _c;
    const proto = /* @__PURE__ */ Object.create({
      ctype: 0,
      packed: false,
      jstype: 0,
      lazy: false,
      unverifiedLazy: false,
      deprecated: false,
      weak: false,
      debugRedact: false,
      retention: 0
    });
    return Object.assign(proto, Object.assign(Object.assign({ $typeName: "google.protobuf.FieldOptions" }, init), { targets: (_a = init.targets) !== null && _a !== void 0 ? _a : [], editionDefaults: (_c = (_b = init.editionDefaults) === null || _b === void 0 ? void 0 : _b.map((e) => Object.assign({ $typeName: "google.protobuf.FieldOptions.EditionDefault" }, e))) !== null && _c !== void 0 ? _c : [], uninterpretedOption: [] }));
  }
  function bootEnumDescriptorProto(init) {
    const proto = /* @__PURE__ */ Object.create({
      visibility: 0
    });
    return Object.assign(proto, {
      $typeName: "google.protobuf.EnumDescriptorProto",
      name: init.name,
      reservedName: [],
      reservedRange: [],
      value: init.value.map((e) => Object.assign({ $typeName: "google.protobuf.EnumValueDescriptorProto" }, e))
    });
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/wire/base64-encoding.js
  var nativeSetFromBase64 = Uint8Array.prototype.setFromBase64;
  function base64Decode(base64Str) {
    const len = base64Str.length;
    let size = len - (len + 3 >> 2);
    if ((len & 3) == 0 && base64Str[len - 1] == "=") {
      size -= base64Str[len - 2] == "=" ? 2 : 1;
    }
    const bytes = new Uint8Array(size);
    let written = -1;
    if (nativeSetFromBase64) {
      try {
        const result = nativeSetFromBase64.call(bytes, base64Str);
        if (result.read == len) {
          written = result.written;
        }
      } catch (_a) {
      }
    }
    if (written < 0) {
      written = setFromBase64(bytes, base64Str);
    }
    return written == size ? bytes : bytes.subarray(0, written);
  }
  function setFromBase64(bytes, base64Str) {
    const table = getDecodeTable();
    let bytePos = 0, groupPos = 0, b, p = 0;
    for (let i = 0; i < base64Str.length; i++) {
      b = table[base64Str.charCodeAt(i)];
      if (b === void 0) {
        switch (base64Str[i]) {
          // @ts-ignore TS7029: Fallthrough case in switch -- ignore instead of expect-error for compiler settings without noFallthroughCasesInSwitch: true
          case "=":
            groupPos = 0;
          // reset state when padding found
          case "\n":
          case "\r":
          case "	":
          case " ":
            continue;
          // skip white-space, and padding
          default:
            throw Error("invalid base64 string");
        }
      }
      switch (groupPos) {
        case 0:
          p = b;
          groupPos = 1;
          break;
        case 1:
          bytes[bytePos++] = p << 2 | (b & 48) >> 4;
          p = b;
          groupPos = 2;
          break;
        case 2:
          bytes[bytePos++] = (p & 15) << 4 | (b & 60) >> 2;
          p = b;
          groupPos = 3;
          break;
        case 3:
          bytes[bytePos++] = (p & 3) << 6 | b;
          groupPos = 0;
          break;
      }
    }
    if (groupPos == 1)
      throw Error("invalid base64 string");
    return bytePos;
  }
  var nativeToBase64 = Uint8Array.prototype.toBase64;
  var encodeTableStd;
  var encodeTableUrl;
  var decodeTable;
  function getEncodeTable(encoding) {
    if (!encodeTableStd) {
      encodeTableStd = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".split("");
      encodeTableUrl = encodeTableStd.slice(0, -2).concat("-", "_");
    }
    return encoding == "url" ? (
      // biome-ignore lint/style/noNonNullAssertion: TS fails to narrow down
      encodeTableUrl
    ) : encodeTableStd;
  }
  function getDecodeTable() {
    if (!decodeTable) {
      decodeTable = [];
      const encodeTable = getEncodeTable("std");
      for (let i = 0; i < encodeTable.length; i++)
        decodeTable[encodeTable[i].charCodeAt(0)] = i;
      decodeTable["-".charCodeAt(0)] = encodeTable.indexOf("+");
      decodeTable["_".charCodeAt(0)] = encodeTable.indexOf("/");
    }
    return decodeTable;
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/reflect/error.js
  var FieldError = class extends Error {
    constructor(fieldOrOneof, message, name = "FieldValueInvalidError") {
      super(message);
      this.name = name;
      this.field = () => fieldOrOneof;
    }
  };

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/is-message.js
  function isMessage(arg, schema) {
    const isMessage2 = arg !== null && typeof arg == "object" && "$typeName" in arg && typeof arg.$typeName == "string";
    if (!isMessage2) {
      return false;
    }
    if (schema === void 0) {
      return true;
    }
    return schema.typeName === arg.$typeName;
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/reflect/guard.js
  function isObject(arg) {
    return arg !== null && typeof arg == "object" && !Array.isArray(arg);
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/wkt/wrappers.js
  function isWrapperDesc(messageDesc2) {
    const f = messageDesc2.fields[0];
    return isWrapperTypeName(messageDesc2.typeName) && f !== void 0 && f.fieldKind == "scalar" && f.name == "value" && f.number == 1;
  }
  var wrapperTypeNames = /* @__PURE__ */ new Set([
    "google.protobuf.DoubleValue",
    "google.protobuf.FloatValue",
    "google.protobuf.Int64Value",
    "google.protobuf.UInt64Value",
    "google.protobuf.Int32Value",
    "google.protobuf.UInt32Value",
    "google.protobuf.BoolValue",
    "google.protobuf.StringValue",
    "google.protobuf.BytesValue"
  ]);
  function isWrapperTypeName(name) {
    return wrapperTypeNames.has(name);
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/create.js
  var EDITION_PROTO32 = 999;
  var EDITION_PROTO22 = 998;
  var IMPLICIT2 = 2;
  function create(schema, init) {
    if (isMessage(init, schema)) {
      return init;
    }
    return compiledCreate(schema)(init);
  }
  var compiledCreates = /* @__PURE__ */ new WeakMap();
  function compiledCreate(desc) {
    let compiled = compiledCreates.get(desc);
    if (compiled === void 0) {
      compiled = compileCreate(desc);
      compiledCreates.set(desc, compiled);
    }
    return compiled;
  }
  var INIT_SINGULAR = 0;
  var INIT_LIST = 1;
  var INIT_MAP = 2;
  var INIT_ONEOF = 3;
  function compileCreate(desc) {
    const typeName = desc.typeName;
    const { properties, prototype } = compileInitMessage(desc);
    return (init) => {
      let message;
      if (prototype !== void 0) {
        message = Object.create(prototype);
        message.$typeName = typeName;
      } else {
        message = { $typeName: typeName };
      }
      for (let i = 0; i < properties.length; i++) {
        const property = properties[i];
        const name = property.name;
        const initValue = init === null || init === void 0 ? void 0 : init[name];
        switch (property.kind) {
          case INIT_SINGULAR:
            if (initValue != null) {
              message[name] = property.convert !== void 0 ? property.convert(initValue) : initValue;
            } else if (property.constant !== void 0) {
              message[name] = property.constant;
            }
            break;
          case INIT_LIST:
            message[name] = property.convert !== void 0 && Array.isArray(initValue) ? initValue.map(property.convert) : initValue !== null && initValue !== void 0 ? initValue : [];
            break;
          case INIT_MAP:
            if (property.convert === void 0 || !isObject(initValue)) {
              message[name] = initValue !== null && initValue !== void 0 ? initValue : {};
            } else {
              const converted = {};
              const keys = Object.keys(initValue);
              for (let k = 0; k < keys.length; k++) {
                setOwn(converted, keys[k], property.convert(initValue[keys[k]]));
              }
              message[name] = converted;
            }
            break;
          case INIT_ONEOF: {
            const oneofValue = initValue;
            if ((oneofValue === null || oneofValue === void 0 ? void 0 : oneofValue.case) != null) {
              const convert = property.convert.get(oneofValue.case);
              if (convert !== void 0) {
                message[name] = {
                  case: oneofValue.case,
                  value: convert(oneofValue.value)
                };
                break;
              }
            }
            message[name] = { case: void 0 };
            break;
          }
        }
      }
      return message;
    };
  }
  function compileInitMessage(desc) {
    var _a, _b;
    const properties = [];
    const prototype = {};
    const usePrototype = needsPrototypeChain(desc);
    for (const member of desc.members) {
      const name = member.localName;
      if (member.kind == "oneof") {
        properties.push({
          name,
          kind: INIT_ONEOF,
          constant: void 0,
          convert: compileConvertOneof(member)
        });
        continue;
      }
      switch (member.fieldKind) {
        case "message": {
          properties.push({
            name,
            kind: INIT_SINGULAR,
            constant: void 0,
            convert: compileConvertMessage(member)
          });
          break;
        }
        case "list": {
          properties.push({
            name,
            kind: INIT_LIST,
            constant: void 0,
            convert: member.listKind == "message" ? (_a = compileConvertMessage(member)) !== null && _a !== void 0 ? _a : ((value) => value) : member.scalar == ScalarType.BYTES ? toU8Arr : void 0
          });
          break;
        }
        case "map": {
          properties.push({
            name,
            kind: INIT_MAP,
            constant: void 0,
            convert: member.mapKind == "message" ? (_b = compileConvertMessage(member)) !== null && _b !== void 0 ? _b : ((value) => value) : member.scalar == ScalarType.BYTES ? toU8Arr : void 0
          });
          break;
        }
        default: {
          const zeroValue = createZeroValue(member);
          properties.push({
            name,
            kind: INIT_SINGULAR,
            constant: member.presence == IMPLICIT2 ? zeroValue : void 0,
            convert: member.fieldKind == "scalar" && member.scalar == ScalarType.BYTES ? toU8Arr : void 0
          });
          if (usePrototype) {
            prototype[name] = zeroValue;
          }
          break;
        }
      }
    }
    return {
      properties,
      prototype: usePrototype ? prototype : void 0
    };
  }
  function compileConvertOneof(oneof) {
    const converters = /* @__PURE__ */ new Map();
    for (const field of oneof.fields) {
      let convert;
      if (field.fieldKind == "message") {
        convert = compileConvertMessage(field);
      } else if (field.fieldKind == "scalar" && field.scalar == ScalarType.BYTES) {
        convert = toU8Arr;
      }
      converters.set(field.localName, convert !== null && convert !== void 0 ? convert : ((value) => value));
    }
    return converters;
  }
  function compileConvertMessage(field) {
    if (field.fieldKind == "message" && !field.oneof && isWrapperDesc(field.message)) {
      return field.message.fields[0].scalar == ScalarType.BYTES ? toU8Arr : void 0;
    }
    if (field.message.typeName == "google.protobuf.Struct" && field.parent.typeName !== "google.protobuf.Value") {
      return void 0;
    }
    const messageDesc2 = field.message;
    let compiled;
    return (value) => {
      if (!isObject(value) || isMessage(value, messageDesc2)) {
        return value;
      }
      compiled !== null && compiled !== void 0 ? compiled : compiled = compiledCreate(messageDesc2);
      return compiled(value);
    };
  }
  function toU8Arr(value) {
    return Array.isArray(value) ? new Uint8Array(value) : value;
  }
  function needsPrototypeChain(desc) {
    switch (desc.file.edition) {
      case EDITION_PROTO32:
        return false;
      case EDITION_PROTO22:
        return true;
      default:
        return desc.fields.some((f) => f.presence != IMPLICIT2 && f.fieldKind != "message" && !f.oneof);
    }
  }
  function createZeroValue(field) {
    const defaultValue = field.getDefaultValue();
    if (defaultValue !== void 0) {
      return field.fieldKind == "scalar" && field.longAsString ? defaultValue.toString() : defaultValue;
    }
    return field.fieldKind == "scalar" ? scalarZeroValue(field.scalar, field.longAsString) : field.enum.values[0].number;
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/reflect/message.js
  var NULL_VALUE = 0;
  function localMessageMapper(field) {
    if (usesJsonRepresentation(field)) {
      return {
        toMessage: (local) => wktStructToReflect(local),
        toLocal: (message) => wktStructToLocal(message)
      };
    }
    if (field.fieldKind == "message" && !field.oneof && isWrapperDesc(field.message)) {
      const wrapperDesc = field.message;
      const valueLocalName = wrapperDesc.fields[0].localName;
      return {
        toMessage: (local) => {
          const message = create(wrapperDesc);
          if (local !== void 0) {
            message[valueLocalName] = local;
          }
          return message;
        },
        toLocal: (message) => message[valueLocalName]
      };
    }
    const childDesc = field.message;
    return {
      toMessage: (local) => local === void 0 ? create(childDesc) : local,
      toLocal: (message) => message
    };
  }
  function usesJsonRepresentation(field) {
    return field.message.typeName == "google.protobuf.Struct" && field.parent.typeName != "google.protobuf.Value";
  }
  function wktStructToReflect(json) {
    const struct = {
      $typeName: "google.protobuf.Struct",
      fields: {}
    };
    if (isObject(json)) {
      for (const k of Object.keys(json)) {
        setOwn(struct.fields, k, wktValueToReflect(json[k]));
      }
    }
    return struct;
  }
  function wktStructToLocal(val) {
    const json = {};
    for (const k of Object.keys(val.fields)) {
      setOwn(json, k, wktValueToLocal(val.fields[k]));
    }
    return json;
  }
  function wktValueToLocal(val) {
    switch (val.kind.case) {
      case "structValue":
        return wktStructToLocal(val.kind.value);
      case "listValue":
        return val.kind.value.values.map(wktValueToLocal);
      case "nullValue":
      case void 0:
        return null;
      default:
        return val.kind.value;
    }
  }
  function wktValueToReflect(json) {
    const value = {
      $typeName: "google.protobuf.Value",
      kind: { case: void 0 }
    };
    switch (typeof json) {
      case "number":
        value.kind = { case: "numberValue", value: json };
        break;
      case "string":
        value.kind = { case: "stringValue", value: json };
        break;
      case "boolean":
        value.kind = { case: "boolValue", value: json };
        break;
      case "object":
        if (json === null) {
          value.kind = { case: "nullValue", value: NULL_VALUE };
        } else if (Array.isArray(json)) {
          const listValue = {
            $typeName: "google.protobuf.ListValue",
            values: []
          };
          if (Array.isArray(json)) {
            for (const e of json) {
              listValue.values.push(wktValueToReflect(e));
            }
          }
          value.kind = {
            case: "listValue",
            value: listValue
          };
        } else {
          value.kind = {
            case: "structValue",
            value: wktStructToReflect(json)
          };
        }
        break;
    }
    return value;
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/to-binary.js
  var IMPLICIT3 = 2;
  var LEGACY_REQUIRED2 = 3;
  var writeDefaults = {
    writeUnknownFields: true
  };
  function makeWriteOptions(options) {
    return options ? Object.assign(Object.assign({}, writeDefaults), options) : writeDefaults;
  }
  function toBinary(schema, message, options) {
    const writer = new BinaryWriter();
    compiledWriter(schema)(writer, makeWriteOptions(options), message);
    return writer.finish();
  }
  var compiledWriters = /* @__PURE__ */ new WeakMap();
  function compiledWriter(desc) {
    let compiled = compiledWriters.get(desc);
    if (compiled === void 0) {
      compiled = compileMessage(desc);
    }
    return compiled;
  }
  function compileMessage(desc) {
    const typeName = desc.typeName;
    const sortedFields = desc.fields.concat().sort((a, b) => a.number - b.number);
    const foreignField = sortedFields[0];
    const fieldWriters = [];
    const compiled = (writer, opts, message) => {
      if (message.$typeName !== typeName && foreignField !== void 0) {
        throw new FieldError(foreignField, `cannot use ${foreignField} with message ${message.$typeName}`, "ForeignFieldError");
      }
      for (let i = 0; i < fieldWriters.length; i++) {
        fieldWriters[i](writer, opts, message);
      }
      const unknown = message.$unknown;
      if (unknown !== void 0 && opts.writeUnknownFields) {
        for (let i = 0; i < unknown.length; i++) {
          const { no, wireType, data } = unknown[i];
          writer.tag(no, wireType).raw(data);
        }
      }
    };
    compiledWriters.set(desc, compiled);
    for (const field of sortedFields) {
      fieldWriters.push(compileField(field));
    }
    return compiled;
  }
  function compileField(field) {
    switch (field.fieldKind) {
      case "message":
      case "scalar":
      case "enum":
        return compileSingularField(field);
      case "list":
        return compileListField(field);
      case "map":
        return compileMapField(field);
    }
  }
  function compileSingularField(field) {
    const writeValue = compileSingularValue(field);
    const localName = field.localName;
    if (field.oneof) {
      const oneofLocalName = field.oneof.localName;
      return (writer, opts, message) => {
        const oneof = message[oneofLocalName];
        if (oneof.case === localName) {
          writeValue(writer, opts, oneof.value);
        }
      };
    }
    if (field.presence != IMPLICIT3) {
      const requiredError = field.presence == LEGACY_REQUIRED2 ? `cannot encode ${field} to binary: required field not set` : void 0;
      return (writer, opts, message) => {
        const value = message[localName];
        if (value !== void 0 && Object.prototype.hasOwnProperty.call(message, localName)) {
          writeValue(writer, opts, value);
        } else if (requiredError !== void 0) {
          throw new Error(requiredError);
        }
      };
    }
    if (field.fieldKind == "enum") {
      const zero = field.enum.values[0].number;
      return (writer, opts, message) => {
        const value = message[localName];
        if (value !== zero) {
          writeValue(writer, opts, value);
        }
      };
    }
    switch (field.scalar) {
      case ScalarType.BOOL:
        return (writer, opts, message) => {
          const value = message[localName];
          if (value !== false) {
            writeValue(writer, opts, value);
          }
        };
      case ScalarType.STRING:
        return (writer, opts, message) => {
          const value = message[localName];
          if (value !== "") {
            writeValue(writer, opts, value);
          }
        };
      case ScalarType.BYTES:
        return (writer, opts, message) => {
          const value = message[localName];
          if (!(value instanceof Uint8Array) || value.byteLength > 0) {
            writeValue(writer, opts, value);
          }
        };
      case ScalarType.DOUBLE:
      case ScalarType.FLOAT:
        return (writer, opts, message) => {
          const value = message[localName];
          if (!Object.is(value, 0)) {
            writeValue(writer, opts, value);
          }
        };
      default:
        return (writer, opts, message) => {
          const value = message[localName];
          if (value != 0) {
            writeValue(writer, opts, value);
          }
        };
    }
  }
  function compileSingularValue(field) {
    switch (field.fieldKind) {
      case "message": {
        const { toMessage } = localMessageMapper(field);
        const writeChild = compileChildWriter(field);
        return (writer, opts, value) => {
          writeChild(writer, opts, toMessage(value));
        };
      }
      case "scalar":
      case "enum": {
        const scalarType = field.fieldKind == "enum" ? ScalarType.INT32 : field.scalar;
        const fieldNo = field.number;
        const wireType = writeTypeOfScalar(scalarType);
        const writeScalar = compileScalarValue(scalarType, field.parent.typeName, field.name);
        return (writer, opts, value) => {
          writer.tag(fieldNo, wireType);
          writeScalar(writer, value);
        };
      }
    }
  }
  function compileListField(field) {
    const localName = field.localName;
    const fieldNo = field.number;
    switch (field.listKind) {
      case "message": {
        const { toMessage } = localMessageMapper(field);
        const writeChild = compileChildWriter(field);
        return (writer, opts, message) => {
          const items = message[localName];
          for (let i = 0; i < items.length; i++) {
            writeChild(writer, opts, toMessage(items[i]));
          }
        };
      }
      case "scalar":
      case "enum": {
        const scalarType = field.listKind == "enum" ? ScalarType.INT32 : field.scalar;
        const writeScalar = compileScalarValue(scalarType, field.parent.typeName, field.name);
        if (field.packed) {
          return (writer, opts, message) => {
            const items = message[localName];
            if (items.length == 0) {
              return;
            }
            writer.tag(fieldNo, WireType.LengthDelimited).fork();
            for (let i = 0; i < items.length; i++) {
              writeScalar(writer, items[i]);
            }
            writer.join();
          };
        }
        const wireType = writeTypeOfScalar(scalarType);
        return (writer, opts, message) => {
          const items = message[localName];
          for (let i = 0; i < items.length; i++) {
            writer.tag(fieldNo, wireType);
            writeScalar(writer, items[i]);
          }
        };
      }
    }
  }
  function compileMapField(field) {
    const localName = field.localName;
    const fieldNo = field.number;
    const writeKey = compileMapKey(field);
    if (field.mapKind == "message") {
      const { toMessage } = localMessageMapper(field);
      const writeMessage = compiledWriter(field.message);
      return (writer, opts, message) => {
        const record = message[localName];
        const keys = Object.keys(record);
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i];
          writer.tag(fieldNo, WireType.LengthDelimited).fork();
          writeKey(writer, key);
          writer.tag(2, WireType.LengthDelimited).fork();
          writeMessage(writer, opts, toMessage(record[key]));
          writer.join();
          writer.join();
        }
      };
    }
    const scalarType = field.mapKind == "enum" ? ScalarType.INT32 : field.scalar;
    const valueWireType = writeTypeOfScalar(scalarType);
    const writeScalar = compileScalarValue(scalarType, field.parent.typeName, field.name);
    return (writer, opts, message) => {
      const record = message[localName];
      const keys = Object.keys(record);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        writer.tag(fieldNo, WireType.LengthDelimited).fork();
        writeKey(writer, key);
        writer.tag(2, valueWireType);
        writeScalar(writer, record[key]);
        writer.join();
      }
    };
  }
  function compileMapKey(field) {
    const wireType = writeTypeOfScalar(field.mapKey);
    const writeScalar = compileScalarValue(field.mapKey, field.parent.typeName, field.name);
    const convertKey = compileMapKeyConverter(field.mapKey);
    return (writer, key) => {
      writer.tag(1, wireType);
      writeScalar(writer, convertKey(key));
    };
  }
  function compileMapKeyConverter(type) {
    switch (type) {
      case ScalarType.STRING:
        return (key) => key;
      case ScalarType.BOOL:
        return (key) => key === "true" ? true : key === "false" ? false : key;
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        return (key) => {
          try {
            return protoInt64.uParse(key);
          } catch (_a) {
            return key;
          }
        };
      case ScalarType.INT64:
      case ScalarType.SFIXED64:
      case ScalarType.SINT64:
        return (key) => {
          try {
            return protoInt64.parse(key);
          } catch (_a) {
            return key;
          }
        };
      default:
        return (key) => {
          const n = Number.parseInt(key);
          return Number.isFinite(n) ? n : key;
        };
    }
  }
  function compileScalarValue(type, messageName, fieldName) {
    const writeScalar = compileScalarWrite(type);
    return (writer, value) => {
      try {
        writeScalar(writer, value);
      } catch (e) {
        if (e instanceof Error) {
          throw new Error(`cannot encode field ${messageName}.${fieldName} to binary: ${e.message}`);
        }
        throw e;
      }
    };
  }
  function compileScalarWrite(type) {
    switch (type) {
      case ScalarType.STRING:
        return (writer, value) => writer.string(value);
      case ScalarType.BOOL:
        return (writer, value) => writer.bool(value);
      case ScalarType.DOUBLE:
        return (writer, value) => writer.double(value);
      case ScalarType.FLOAT:
        return (writer, value) => writer.float(value);
      case ScalarType.INT32:
        return (writer, value) => writer.int32(value);
      case ScalarType.INT64:
        return (writer, value) => writer.int64(value);
      case ScalarType.UINT64:
        return (writer, value) => writer.uint64(value);
      case ScalarType.FIXED64:
        return (writer, value) => writer.fixed64(value);
      case ScalarType.BYTES:
        return (writer, value) => writer.bytes(value);
      case ScalarType.FIXED32:
        return (writer, value) => writer.fixed32(value);
      case ScalarType.SFIXED32:
        return (writer, value) => writer.sfixed32(value);
      case ScalarType.SFIXED64:
        return (writer, value) => writer.sfixed64(value);
      case ScalarType.SINT64:
        return (writer, value) => writer.sint64(value);
      case ScalarType.UINT32:
        return (writer, value) => writer.uint32(value);
      case ScalarType.SINT32:
        return (writer, value) => writer.sint32(value);
    }
  }
  function compileChildWriter(field) {
    const fieldNo = field.number;
    const writeMessage = compiledWriter(field.message);
    if (field.delimitedEncoding) {
      return (writer, opts, child) => {
        writer.tag(fieldNo, WireType.StartGroup);
        writeMessage(writer, opts, child);
        writer.tag(fieldNo, WireType.EndGroup);
      };
    }
    return (writer, opts, child) => {
      writer.tag(fieldNo, WireType.LengthDelimited).fork();
      writeMessage(writer, opts, child);
      writer.join();
    };
  }
  function writeTypeOfScalar(type) {
    switch (type) {
      case ScalarType.BYTES:
      case ScalarType.STRING:
        return WireType.LengthDelimited;
      case ScalarType.DOUBLE:
      case ScalarType.FIXED64:
      case ScalarType.SFIXED64:
        return WireType.Bit64;
      case ScalarType.FIXED32:
      case ScalarType.SFIXED32:
      case ScalarType.FLOAT:
        return WireType.Bit32;
      default:
        return WireType.Varint;
    }
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/codegenv2/message.js
  function messageDesc(file, path, ...paths) {
    return paths.reduce((acc, cur) => acc.nestedMessages[cur], file.messages[path]);
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/wkt/google/protobuf/descriptor_pb.js
  var file_google_protobuf_descriptor = /* @__PURE__ */ boot({ "name": "google/protobuf/descriptor.proto", "package": "google.protobuf", "messageType": [{ "name": "FileDescriptorSet", "field": [{ "name": "file", "number": 1, "type": 11, "label": 3, "typeName": ".google.protobuf.FileDescriptorProto" }], "extensionRange": [{ "start": 536e6, "end": 536000001 }] }, { "name": "FileDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "package", "number": 2, "type": 9, "label": 1 }, { "name": "dependency", "number": 3, "type": 9, "label": 3 }, { "name": "public_dependency", "number": 10, "type": 5, "label": 3 }, { "name": "weak_dependency", "number": 11, "type": 5, "label": 3 }, { "name": "option_dependency", "number": 15, "type": 9, "label": 3 }, { "name": "message_type", "number": 4, "type": 11, "label": 3, "typeName": ".google.protobuf.DescriptorProto" }, { "name": "enum_type", "number": 5, "type": 11, "label": 3, "typeName": ".google.protobuf.EnumDescriptorProto" }, { "name": "service", "number": 6, "type": 11, "label": 3, "typeName": ".google.protobuf.ServiceDescriptorProto" }, { "name": "extension", "number": 7, "type": 11, "label": 3, "typeName": ".google.protobuf.FieldDescriptorProto" }, { "name": "options", "number": 8, "type": 11, "label": 1, "typeName": ".google.protobuf.FileOptions" }, { "name": "source_code_info", "number": 9, "type": 11, "label": 1, "typeName": ".google.protobuf.SourceCodeInfo" }, { "name": "syntax", "number": 12, "type": 9, "label": 1 }, { "name": "edition", "number": 14, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }] }, { "name": "DescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "field", "number": 2, "type": 11, "label": 3, "typeName": ".google.protobuf.FieldDescriptorProto" }, { "name": "extension", "number": 6, "type": 11, "label": 3, "typeName": ".google.protobuf.FieldDescriptorProto" }, { "name": "nested_type", "number": 3, "type": 11, "label": 3, "typeName": ".google.protobuf.DescriptorProto" }, { "name": "enum_type", "number": 4, "type": 11, "label": 3, "typeName": ".google.protobuf.EnumDescriptorProto" }, { "name": "extension_range", "number": 5, "type": 11, "label": 3, "typeName": ".google.protobuf.DescriptorProto.ExtensionRange" }, { "name": "oneof_decl", "number": 8, "type": 11, "label": 3, "typeName": ".google.protobuf.OneofDescriptorProto" }, { "name": "options", "number": 7, "type": 11, "label": 1, "typeName": ".google.protobuf.MessageOptions" }, { "name": "reserved_range", "number": 9, "type": 11, "label": 3, "typeName": ".google.protobuf.DescriptorProto.ReservedRange" }, { "name": "reserved_name", "number": 10, "type": 9, "label": 3 }, { "name": "visibility", "number": 11, "type": 14, "label": 1, "typeName": ".google.protobuf.SymbolVisibility" }], "nestedType": [{ "name": "ExtensionRange", "field": [{ "name": "start", "number": 1, "type": 5, "label": 1 }, { "name": "end", "number": 2, "type": 5, "label": 1 }, { "name": "options", "number": 3, "type": 11, "label": 1, "typeName": ".google.protobuf.ExtensionRangeOptions" }] }, { "name": "ReservedRange", "field": [{ "name": "start", "number": 1, "type": 5, "label": 1 }, { "name": "end", "number": 2, "type": 5, "label": 1 }] }] }, { "name": "ExtensionRangeOptions", "field": [{ "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }, { "name": "declaration", "number": 2, "type": 11, "label": 3, "typeName": ".google.protobuf.ExtensionRangeOptions.Declaration", "options": { "retention": 2 } }, { "name": "features", "number": 50, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "verification", "number": 3, "type": 14, "label": 1, "typeName": ".google.protobuf.ExtensionRangeOptions.VerificationState", "defaultValue": "UNVERIFIED", "options": { "retention": 2 } }], "nestedType": [{ "name": "Declaration", "field": [{ "name": "number", "number": 1, "type": 5, "label": 1 }, { "name": "full_name", "number": 2, "type": 9, "label": 1 }, { "name": "type", "number": 3, "type": 9, "label": 1 }, { "name": "reserved", "number": 5, "type": 8, "label": 1 }, { "name": "repeated", "number": 6, "type": 8, "label": 1 }] }], "enumType": [{ "name": "VerificationState", "value": [{ "name": "DECLARATION", "number": 0 }, { "name": "UNVERIFIED", "number": 1 }] }], "extensionRange": [{ "start": 990, "end": 999 }, { "start": 1e3, "end": 536870912 }] }, { "name": "FieldDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "number", "number": 3, "type": 5, "label": 1 }, { "name": "label", "number": 4, "type": 14, "label": 1, "typeName": ".google.protobuf.FieldDescriptorProto.Label" }, { "name": "type", "number": 5, "type": 14, "label": 1, "typeName": ".google.protobuf.FieldDescriptorProto.Type" }, { "name": "type_name", "number": 6, "type": 9, "label": 1 }, { "name": "extendee", "number": 2, "type": 9, "label": 1 }, { "name": "default_value", "number": 7, "type": 9, "label": 1 }, { "name": "oneof_index", "number": 9, "type": 5, "label": 1 }, { "name": "json_name", "number": 10, "type": 9, "label": 1 }, { "name": "options", "number": 8, "type": 11, "label": 1, "typeName": ".google.protobuf.FieldOptions" }, { "name": "proto3_optional", "number": 17, "type": 8, "label": 1 }], "enumType": [{ "name": "Type", "value": [{ "name": "TYPE_DOUBLE", "number": 1 }, { "name": "TYPE_FLOAT", "number": 2 }, { "name": "TYPE_INT64", "number": 3 }, { "name": "TYPE_UINT64", "number": 4 }, { "name": "TYPE_INT32", "number": 5 }, { "name": "TYPE_FIXED64", "number": 6 }, { "name": "TYPE_FIXED32", "number": 7 }, { "name": "TYPE_BOOL", "number": 8 }, { "name": "TYPE_STRING", "number": 9 }, { "name": "TYPE_GROUP", "number": 10 }, { "name": "TYPE_MESSAGE", "number": 11 }, { "name": "TYPE_BYTES", "number": 12 }, { "name": "TYPE_UINT32", "number": 13 }, { "name": "TYPE_ENUM", "number": 14 }, { "name": "TYPE_SFIXED32", "number": 15 }, { "name": "TYPE_SFIXED64", "number": 16 }, { "name": "TYPE_SINT32", "number": 17 }, { "name": "TYPE_SINT64", "number": 18 }] }, { "name": "Label", "value": [{ "name": "LABEL_OPTIONAL", "number": 1 }, { "name": "LABEL_REPEATED", "number": 3 }, { "name": "LABEL_REQUIRED", "number": 2 }] }] }, { "name": "OneofDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "options", "number": 2, "type": 11, "label": 1, "typeName": ".google.protobuf.OneofOptions" }] }, { "name": "EnumDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "value", "number": 2, "type": 11, "label": 3, "typeName": ".google.protobuf.EnumValueDescriptorProto" }, { "name": "options", "number": 3, "type": 11, "label": 1, "typeName": ".google.protobuf.EnumOptions" }, { "name": "reserved_range", "number": 4, "type": 11, "label": 3, "typeName": ".google.protobuf.EnumDescriptorProto.EnumReservedRange" }, { "name": "reserved_name", "number": 5, "type": 9, "label": 3 }, { "name": "visibility", "number": 6, "type": 14, "label": 1, "typeName": ".google.protobuf.SymbolVisibility" }], "nestedType": [{ "name": "EnumReservedRange", "field": [{ "name": "start", "number": 1, "type": 5, "label": 1 }, { "name": "end", "number": 2, "type": 5, "label": 1 }] }] }, { "name": "EnumValueDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "number", "number": 2, "type": 5, "label": 1 }, { "name": "options", "number": 3, "type": 11, "label": 1, "typeName": ".google.protobuf.EnumValueOptions" }] }, { "name": "ServiceDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "method", "number": 2, "type": 11, "label": 3, "typeName": ".google.protobuf.MethodDescriptorProto" }, { "name": "options", "number": 3, "type": 11, "label": 1, "typeName": ".google.protobuf.ServiceOptions" }] }, { "name": "MethodDescriptorProto", "field": [{ "name": "name", "number": 1, "type": 9, "label": 1 }, { "name": "input_type", "number": 2, "type": 9, "label": 1 }, { "name": "output_type", "number": 3, "type": 9, "label": 1 }, { "name": "options", "number": 4, "type": 11, "label": 1, "typeName": ".google.protobuf.MethodOptions" }, { "name": "client_streaming", "number": 5, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "server_streaming", "number": 6, "type": 8, "label": 1, "defaultValue": "false" }] }, { "name": "FileOptions", "field": [{ "name": "java_package", "number": 1, "type": 9, "label": 1 }, { "name": "java_outer_classname", "number": 8, "type": 9, "label": 1 }, { "name": "java_multiple_files", "number": 10, "type": 8, "label": 1, "defaultValue": "false", "options": {} }, { "name": "java_generate_equals_and_hash", "number": 20, "type": 8, "label": 1, "options": { "deprecated": true } }, { "name": "java_string_check_utf8", "number": 27, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "optimize_for", "number": 9, "type": 14, "label": 1, "typeName": ".google.protobuf.FileOptions.OptimizeMode", "defaultValue": "SPEED" }, { "name": "go_package", "number": 11, "type": 9, "label": 1 }, { "name": "cc_generic_services", "number": 16, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "java_generic_services", "number": 17, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "py_generic_services", "number": 18, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "deprecated", "number": 23, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "cc_enable_arenas", "number": 31, "type": 8, "label": 1, "defaultValue": "true", "options": {} }, { "name": "objc_class_prefix", "number": 36, "type": 9, "label": 1 }, { "name": "csharp_namespace", "number": 37, "type": 9, "label": 1 }, { "name": "swift_prefix", "number": 39, "type": 9, "label": 1 }, { "name": "php_class_prefix", "number": 40, "type": 9, "label": 1 }, { "name": "php_namespace", "number": 41, "type": 9, "label": 1 }, { "name": "php_metadata_namespace", "number": 44, "type": 9, "label": 1 }, { "name": "ruby_package", "number": 45, "type": 9, "label": 1 }, { "name": "features", "number": 50, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "enumType": [{ "name": "OptimizeMode", "value": [{ "name": "SPEED", "number": 1 }, { "name": "CODE_SIZE", "number": 2 }, { "name": "LITE_RUNTIME", "number": 3 }] }], "extensionRange": [{ "start": 990, "end": 999 }, { "start": 1e3, "end": 536870912 }] }, { "name": "MessageOptions", "field": [{ "name": "message_set_wire_format", "number": 1, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "no_standard_descriptor_accessor", "number": 2, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "deprecated", "number": 3, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "map_entry", "number": 7, "type": 8, "label": 1 }, { "name": "deprecated_legacy_json_field_conflicts", "number": 11, "type": 8, "label": 1, "options": { "deprecated": true } }, { "name": "features", "number": 12, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "extensionRange": [{ "start": 990, "end": 999 }, { "start": 1e3, "end": 536870912 }] }, { "name": "FieldOptions", "field": [{ "name": "ctype", "number": 1, "type": 14, "label": 1, "typeName": ".google.protobuf.FieldOptions.CType", "defaultValue": "STRING" }, { "name": "packed", "number": 2, "type": 8, "label": 1 }, { "name": "jstype", "number": 6, "type": 14, "label": 1, "typeName": ".google.protobuf.FieldOptions.JSType", "defaultValue": "JS_NORMAL" }, { "name": "lazy", "number": 5, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "unverified_lazy", "number": 15, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "deprecated", "number": 3, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "weak", "number": 10, "type": 8, "label": 1, "defaultValue": "false", "options": { "deprecated": true } }, { "name": "debug_redact", "number": 16, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "retention", "number": 17, "type": 14, "label": 1, "typeName": ".google.protobuf.FieldOptions.OptionRetention" }, { "name": "targets", "number": 19, "type": 14, "label": 3, "typeName": ".google.protobuf.FieldOptions.OptionTargetType" }, { "name": "edition_defaults", "number": 20, "type": 11, "label": 3, "typeName": ".google.protobuf.FieldOptions.EditionDefault" }, { "name": "features", "number": 21, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "feature_support", "number": 22, "type": 11, "label": 1, "typeName": ".google.protobuf.FieldOptions.FeatureSupport" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "nestedType": [{ "name": "EditionDefault", "field": [{ "name": "edition", "number": 3, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }, { "name": "value", "number": 2, "type": 9, "label": 1 }] }, { "name": "FeatureSupport", "field": [{ "name": "edition_introduced", "number": 1, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }, { "name": "edition_deprecated", "number": 2, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }, { "name": "deprecation_warning", "number": 3, "type": 9, "label": 1 }, { "name": "edition_removed", "number": 4, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }, { "name": "removal_error", "number": 5, "type": 9, "label": 1 }] }], "enumType": [{ "name": "CType", "value": [{ "name": "STRING", "number": 0 }, { "name": "CORD", "number": 1 }, { "name": "STRING_PIECE", "number": 2 }] }, { "name": "JSType", "value": [{ "name": "JS_NORMAL", "number": 0 }, { "name": "JS_STRING", "number": 1 }, { "name": "JS_NUMBER", "number": 2 }] }, { "name": "OptionRetention", "value": [{ "name": "RETENTION_UNKNOWN", "number": 0 }, { "name": "RETENTION_RUNTIME", "number": 1 }, { "name": "RETENTION_SOURCE", "number": 2 }] }, { "name": "OptionTargetType", "value": [{ "name": "TARGET_TYPE_UNKNOWN", "number": 0 }, { "name": "TARGET_TYPE_FILE", "number": 1 }, { "name": "TARGET_TYPE_EXTENSION_RANGE", "number": 2 }, { "name": "TARGET_TYPE_MESSAGE", "number": 3 }, { "name": "TARGET_TYPE_FIELD", "number": 4 }, { "name": "TARGET_TYPE_ONEOF", "number": 5 }, { "name": "TARGET_TYPE_ENUM", "number": 6 }, { "name": "TARGET_TYPE_ENUM_ENTRY", "number": 7 }, { "name": "TARGET_TYPE_SERVICE", "number": 8 }, { "name": "TARGET_TYPE_METHOD", "number": 9 }] }], "extensionRange": [{ "start": 990, "end": 999 }, { "start": 1e3, "end": 536870912 }] }, { "name": "OneofOptions", "field": [{ "name": "features", "number": 1, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "extensionRange": [{ "start": 990, "end": 999 }, { "start": 1e3, "end": 536870912 }] }, { "name": "EnumOptions", "field": [{ "name": "allow_alias", "number": 2, "type": 8, "label": 1 }, { "name": "deprecated", "number": 3, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "deprecated_legacy_json_field_conflicts", "number": 6, "type": 8, "label": 1, "options": { "deprecated": true } }, { "name": "features", "number": 7, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "extensionRange": [{ "start": 990, "end": 999 }, { "start": 1e3, "end": 536870912 }] }, { "name": "EnumValueOptions", "field": [{ "name": "deprecated", "number": 1, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "features", "number": 2, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "debug_redact", "number": 3, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "feature_support", "number": 4, "type": 11, "label": 1, "typeName": ".google.protobuf.FieldOptions.FeatureSupport" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "extensionRange": [{ "start": 990, "end": 999 }, { "start": 1e3, "end": 536870912 }] }, { "name": "ServiceOptions", "field": [{ "name": "features", "number": 34, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "deprecated", "number": 33, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "extensionRange": [{ "start": 990, "end": 999 }, { "start": 1e3, "end": 536870912 }] }, { "name": "MethodOptions", "field": [{ "name": "deprecated", "number": 33, "type": 8, "label": 1, "defaultValue": "false" }, { "name": "idempotency_level", "number": 34, "type": 14, "label": 1, "typeName": ".google.protobuf.MethodOptions.IdempotencyLevel", "defaultValue": "IDEMPOTENCY_UNKNOWN" }, { "name": "features", "number": 35, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "uninterpreted_option", "number": 999, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption" }], "enumType": [{ "name": "IdempotencyLevel", "value": [{ "name": "IDEMPOTENCY_UNKNOWN", "number": 0 }, { "name": "NO_SIDE_EFFECTS", "number": 1 }, { "name": "IDEMPOTENT", "number": 2 }] }], "extensionRange": [{ "start": 990, "end": 999 }, { "start": 1e3, "end": 536870912 }] }, { "name": "UninterpretedOption", "field": [{ "name": "name", "number": 2, "type": 11, "label": 3, "typeName": ".google.protobuf.UninterpretedOption.NamePart" }, { "name": "identifier_value", "number": 3, "type": 9, "label": 1 }, { "name": "positive_int_value", "number": 4, "type": 4, "label": 1 }, { "name": "negative_int_value", "number": 5, "type": 3, "label": 1 }, { "name": "double_value", "number": 6, "type": 1, "label": 1 }, { "name": "string_value", "number": 7, "type": 12, "label": 1 }, { "name": "aggregate_value", "number": 8, "type": 9, "label": 1 }], "nestedType": [{ "name": "NamePart", "field": [{ "name": "name_part", "number": 1, "type": 9, "label": 2 }, { "name": "is_extension", "number": 2, "type": 8, "label": 2 }] }] }, { "name": "FeatureSet", "field": [{ "name": "field_presence", "number": 1, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.FieldPresence", "options": { "retention": 1, "targets": [4, 1], "editionDefaults": [{ "value": "EXPLICIT", "edition": 900 }, { "value": "IMPLICIT", "edition": 999 }, { "value": "EXPLICIT", "edition": 1e3 }] } }, { "name": "enum_type", "number": 2, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.EnumType", "options": { "retention": 1, "targets": [6, 1], "editionDefaults": [{ "value": "CLOSED", "edition": 900 }, { "value": "OPEN", "edition": 999 }] } }, { "name": "repeated_field_encoding", "number": 3, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.RepeatedFieldEncoding", "options": { "retention": 1, "targets": [4, 1], "editionDefaults": [{ "value": "EXPANDED", "edition": 900 }, { "value": "PACKED", "edition": 999 }] } }, { "name": "utf8_validation", "number": 4, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.Utf8Validation", "options": { "retention": 1, "targets": [4, 1], "editionDefaults": [{ "value": "NONE", "edition": 900 }, { "value": "VERIFY", "edition": 999 }] } }, { "name": "message_encoding", "number": 5, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.MessageEncoding", "options": { "retention": 1, "targets": [4, 1], "editionDefaults": [{ "value": "LENGTH_PREFIXED", "edition": 900 }] } }, { "name": "json_format", "number": 6, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.JsonFormat", "options": { "retention": 1, "targets": [3, 6, 1], "editionDefaults": [{ "value": "LEGACY_BEST_EFFORT", "edition": 900 }, { "value": "ALLOW", "edition": 999 }] } }, { "name": "enforce_naming_style", "number": 7, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.EnforceNamingStyle", "options": { "retention": 2, "targets": [1, 2, 3, 4, 5, 6, 7, 8, 9], "editionDefaults": [{ "value": "STYLE_LEGACY", "edition": 900 }, { "value": "STYLE2024", "edition": 1001 }, { "value": "STYLE2026", "edition": 1002 }] } }, { "name": "default_symbol_visibility", "number": 8, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.VisibilityFeature.DefaultSymbolVisibility", "options": { "retention": 2, "targets": [1], "editionDefaults": [{ "value": "EXPORT_ALL", "edition": 900 }, { "value": "EXPORT_TOP_LEVEL", "edition": 1001 }, { "value": "STRICT", "edition": 1002 }] } }, { "name": "enforce_proto_limits", "number": 9, "type": 14, "label": 1, "typeName": ".google.protobuf.FeatureSet.ProtoLimitsFeature.EnforceProtoLimits", "options": { "retention": 2, "targets": [6, 3, 4, 5], "editionDefaults": [{ "value": "LEGACY_NO_EXPLICIT_LIMITS", "edition": 900 }, { "value": "PROTO_LIMITS2026", "edition": 1002 }] } }], "nestedType": [{ "name": "VisibilityFeature", "enumType": [{ "name": "DefaultSymbolVisibility", "value": [{ "name": "DEFAULT_SYMBOL_VISIBILITY_UNKNOWN", "number": 0 }, { "name": "EXPORT_ALL", "number": 1 }, { "name": "EXPORT_TOP_LEVEL", "number": 2 }, { "name": "LOCAL_ALL", "number": 3 }, { "name": "STRICT", "number": 4 }] }] }, { "name": "ProtoLimitsFeature", "enumType": [{ "name": "EnforceProtoLimits", "value": [{ "name": "PROTO_LIMITS_UNKNOWN", "number": 0 }, { "name": "LEGACY_NO_EXPLICIT_LIMITS", "number": 1 }, { "name": "PROTO_LIMITS2026", "number": 2 }] }] }], "enumType": [{ "name": "FieldPresence", "value": [{ "name": "FIELD_PRESENCE_UNKNOWN", "number": 0 }, { "name": "EXPLICIT", "number": 1 }, { "name": "IMPLICIT", "number": 2 }, { "name": "LEGACY_REQUIRED", "number": 3 }] }, { "name": "EnumType", "value": [{ "name": "ENUM_TYPE_UNKNOWN", "number": 0 }, { "name": "OPEN", "number": 1 }, { "name": "CLOSED", "number": 2 }] }, { "name": "RepeatedFieldEncoding", "value": [{ "name": "REPEATED_FIELD_ENCODING_UNKNOWN", "number": 0 }, { "name": "PACKED", "number": 1 }, { "name": "EXPANDED", "number": 2 }] }, { "name": "Utf8Validation", "value": [{ "name": "UTF8_VALIDATION_UNKNOWN", "number": 0 }, { "name": "VERIFY", "number": 2 }, { "name": "NONE", "number": 3 }] }, { "name": "MessageEncoding", "value": [{ "name": "MESSAGE_ENCODING_UNKNOWN", "number": 0 }, { "name": "LENGTH_PREFIXED", "number": 1 }, { "name": "DELIMITED", "number": 2 }] }, { "name": "JsonFormat", "value": [{ "name": "JSON_FORMAT_UNKNOWN", "number": 0 }, { "name": "ALLOW", "number": 1 }, { "name": "LEGACY_BEST_EFFORT", "number": 2 }] }, { "name": "EnforceNamingStyle", "value": [{ "name": "ENFORCE_NAMING_STYLE_UNKNOWN", "number": 0 }, { "name": "STYLE2024", "number": 1 }, { "name": "STYLE_LEGACY", "number": 2 }, { "name": "STYLE2026", "number": 3 }] }], "extensionRange": [{ "start": 1e3, "end": 9995 }, { "start": 9995, "end": 1e4 }, { "start": 1e4, "end": 10001 }] }, { "name": "FeatureSetDefaults", "field": [{ "name": "defaults", "number": 1, "type": 11, "label": 3, "typeName": ".google.protobuf.FeatureSetDefaults.FeatureSetEditionDefault" }, { "name": "minimum_edition", "number": 4, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }, { "name": "maximum_edition", "number": 5, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }], "nestedType": [{ "name": "FeatureSetEditionDefault", "field": [{ "name": "edition", "number": 3, "type": 14, "label": 1, "typeName": ".google.protobuf.Edition" }, { "name": "overridable_features", "number": 4, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }, { "name": "fixed_features", "number": 5, "type": 11, "label": 1, "typeName": ".google.protobuf.FeatureSet" }] }] }, { "name": "SourceCodeInfo", "field": [{ "name": "location", "number": 1, "type": 11, "label": 3, "typeName": ".google.protobuf.SourceCodeInfo.Location" }], "nestedType": [{ "name": "Location", "field": [{ "name": "path", "number": 1, "type": 5, "label": 3, "options": { "packed": true } }, { "name": "span", "number": 2, "type": 5, "label": 3, "options": { "packed": true } }, { "name": "leading_comments", "number": 3, "type": 9, "label": 1 }, { "name": "trailing_comments", "number": 4, "type": 9, "label": 1 }, { "name": "leading_detached_comments", "number": 6, "type": 9, "label": 3 }] }], "extensionRange": [{ "start": 536e6, "end": 536000001 }] }, { "name": "GeneratedCodeInfo", "field": [{ "name": "annotation", "number": 1, "type": 11, "label": 3, "typeName": ".google.protobuf.GeneratedCodeInfo.Annotation" }], "nestedType": [{ "name": "Annotation", "field": [{ "name": "path", "number": 1, "type": 5, "label": 3, "options": { "packed": true } }, { "name": "source_file", "number": 2, "type": 9, "label": 1 }, { "name": "begin", "number": 3, "type": 5, "label": 1 }, { "name": "end", "number": 4, "type": 5, "label": 1 }, { "name": "semantic", "number": 5, "type": 14, "label": 1, "typeName": ".google.protobuf.GeneratedCodeInfo.Annotation.Semantic" }], "enumType": [{ "name": "Semantic", "value": [{ "name": "NONE", "number": 0 }, { "name": "SET", "number": 1 }, { "name": "ALIAS", "number": 2 }] }] }] }], "enumType": [{ "name": "Edition", "value": [{ "name": "EDITION_UNKNOWN", "number": 0 }, { "name": "EDITION_LEGACY", "number": 900 }, { "name": "EDITION_PROTO2", "number": 998 }, { "name": "EDITION_PROTO3", "number": 999 }, { "name": "EDITION_2023", "number": 1e3 }, { "name": "EDITION_2024", "number": 1001 }, { "name": "EDITION_2026", "number": 1002 }, { "name": "EDITION_UNSTABLE", "number": 9999 }, { "name": "EDITION_1_TEST_ONLY", "number": 1 }, { "name": "EDITION_2_TEST_ONLY", "number": 2 }, { "name": "EDITION_99997_TEST_ONLY", "number": 99997 }, { "name": "EDITION_99998_TEST_ONLY", "number": 99998 }, { "name": "EDITION_99999_TEST_ONLY", "number": 99999 }, { "name": "EDITION_MAX", "number": 2147483647 }] }, { "name": "SymbolVisibility", "value": [{ "name": "VISIBILITY_UNSET", "number": 0 }, { "name": "VISIBILITY_LOCAL", "number": 1 }, { "name": "VISIBILITY_EXPORT", "number": 2 }] }] });
  var FileDescriptorProtoSchema = /* @__PURE__ */ messageDesc(file_google_protobuf_descriptor, 1);
  var ExtensionRangeOptions_VerificationState;
  (function(ExtensionRangeOptions_VerificationState2) {
    ExtensionRangeOptions_VerificationState2[ExtensionRangeOptions_VerificationState2["DECLARATION"] = 0] = "DECLARATION";
    ExtensionRangeOptions_VerificationState2[ExtensionRangeOptions_VerificationState2["UNVERIFIED"] = 1] = "UNVERIFIED";
  })(ExtensionRangeOptions_VerificationState || (ExtensionRangeOptions_VerificationState = {}));
  var FieldDescriptorProto_Type;
  (function(FieldDescriptorProto_Type2) {
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["DOUBLE"] = 1] = "DOUBLE";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["FLOAT"] = 2] = "FLOAT";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["INT64"] = 3] = "INT64";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["UINT64"] = 4] = "UINT64";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["INT32"] = 5] = "INT32";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["FIXED64"] = 6] = "FIXED64";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["FIXED32"] = 7] = "FIXED32";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["BOOL"] = 8] = "BOOL";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["STRING"] = 9] = "STRING";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["GROUP"] = 10] = "GROUP";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["MESSAGE"] = 11] = "MESSAGE";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["BYTES"] = 12] = "BYTES";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["UINT32"] = 13] = "UINT32";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["ENUM"] = 14] = "ENUM";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["SFIXED32"] = 15] = "SFIXED32";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["SFIXED64"] = 16] = "SFIXED64";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["SINT32"] = 17] = "SINT32";
    FieldDescriptorProto_Type2[FieldDescriptorProto_Type2["SINT64"] = 18] = "SINT64";
  })(FieldDescriptorProto_Type || (FieldDescriptorProto_Type = {}));
  var FieldDescriptorProto_Label;
  (function(FieldDescriptorProto_Label2) {
    FieldDescriptorProto_Label2[FieldDescriptorProto_Label2["OPTIONAL"] = 1] = "OPTIONAL";
    FieldDescriptorProto_Label2[FieldDescriptorProto_Label2["REPEATED"] = 3] = "REPEATED";
    FieldDescriptorProto_Label2[FieldDescriptorProto_Label2["REQUIRED"] = 2] = "REQUIRED";
  })(FieldDescriptorProto_Label || (FieldDescriptorProto_Label = {}));
  var FileOptions_OptimizeMode;
  (function(FileOptions_OptimizeMode2) {
    FileOptions_OptimizeMode2[FileOptions_OptimizeMode2["SPEED"] = 1] = "SPEED";
    FileOptions_OptimizeMode2[FileOptions_OptimizeMode2["CODE_SIZE"] = 2] = "CODE_SIZE";
    FileOptions_OptimizeMode2[FileOptions_OptimizeMode2["LITE_RUNTIME"] = 3] = "LITE_RUNTIME";
  })(FileOptions_OptimizeMode || (FileOptions_OptimizeMode = {}));
  var FieldOptions_CType;
  (function(FieldOptions_CType2) {
    FieldOptions_CType2[FieldOptions_CType2["STRING"] = 0] = "STRING";
    FieldOptions_CType2[FieldOptions_CType2["CORD"] = 1] = "CORD";
    FieldOptions_CType2[FieldOptions_CType2["STRING_PIECE"] = 2] = "STRING_PIECE";
  })(FieldOptions_CType || (FieldOptions_CType = {}));
  var FieldOptions_JSType;
  (function(FieldOptions_JSType2) {
    FieldOptions_JSType2[FieldOptions_JSType2["JS_NORMAL"] = 0] = "JS_NORMAL";
    FieldOptions_JSType2[FieldOptions_JSType2["JS_STRING"] = 1] = "JS_STRING";
    FieldOptions_JSType2[FieldOptions_JSType2["JS_NUMBER"] = 2] = "JS_NUMBER";
  })(FieldOptions_JSType || (FieldOptions_JSType = {}));
  var FieldOptions_OptionRetention;
  (function(FieldOptions_OptionRetention2) {
    FieldOptions_OptionRetention2[FieldOptions_OptionRetention2["RETENTION_UNKNOWN"] = 0] = "RETENTION_UNKNOWN";
    FieldOptions_OptionRetention2[FieldOptions_OptionRetention2["RETENTION_RUNTIME"] = 1] = "RETENTION_RUNTIME";
    FieldOptions_OptionRetention2[FieldOptions_OptionRetention2["RETENTION_SOURCE"] = 2] = "RETENTION_SOURCE";
  })(FieldOptions_OptionRetention || (FieldOptions_OptionRetention = {}));
  var FieldOptions_OptionTargetType;
  (function(FieldOptions_OptionTargetType2) {
    FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_UNKNOWN"] = 0] = "TARGET_TYPE_UNKNOWN";
    FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_FILE"] = 1] = "TARGET_TYPE_FILE";
    FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_EXTENSION_RANGE"] = 2] = "TARGET_TYPE_EXTENSION_RANGE";
    FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_MESSAGE"] = 3] = "TARGET_TYPE_MESSAGE";
    FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_FIELD"] = 4] = "TARGET_TYPE_FIELD";
    FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_ONEOF"] = 5] = "TARGET_TYPE_ONEOF";
    FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_ENUM"] = 6] = "TARGET_TYPE_ENUM";
    FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_ENUM_ENTRY"] = 7] = "TARGET_TYPE_ENUM_ENTRY";
    FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_SERVICE"] = 8] = "TARGET_TYPE_SERVICE";
    FieldOptions_OptionTargetType2[FieldOptions_OptionTargetType2["TARGET_TYPE_METHOD"] = 9] = "TARGET_TYPE_METHOD";
  })(FieldOptions_OptionTargetType || (FieldOptions_OptionTargetType = {}));
  var MethodOptions_IdempotencyLevel;
  (function(MethodOptions_IdempotencyLevel2) {
    MethodOptions_IdempotencyLevel2[MethodOptions_IdempotencyLevel2["IDEMPOTENCY_UNKNOWN"] = 0] = "IDEMPOTENCY_UNKNOWN";
    MethodOptions_IdempotencyLevel2[MethodOptions_IdempotencyLevel2["NO_SIDE_EFFECTS"] = 1] = "NO_SIDE_EFFECTS";
    MethodOptions_IdempotencyLevel2[MethodOptions_IdempotencyLevel2["IDEMPOTENT"] = 2] = "IDEMPOTENT";
  })(MethodOptions_IdempotencyLevel || (MethodOptions_IdempotencyLevel = {}));
  var FeatureSet_VisibilityFeature_DefaultSymbolVisibility;
  (function(FeatureSet_VisibilityFeature_DefaultSymbolVisibility2) {
    FeatureSet_VisibilityFeature_DefaultSymbolVisibility2[FeatureSet_VisibilityFeature_DefaultSymbolVisibility2["DEFAULT_SYMBOL_VISIBILITY_UNKNOWN"] = 0] = "DEFAULT_SYMBOL_VISIBILITY_UNKNOWN";
    FeatureSet_VisibilityFeature_DefaultSymbolVisibility2[FeatureSet_VisibilityFeature_DefaultSymbolVisibility2["EXPORT_ALL"] = 1] = "EXPORT_ALL";
    FeatureSet_VisibilityFeature_DefaultSymbolVisibility2[FeatureSet_VisibilityFeature_DefaultSymbolVisibility2["EXPORT_TOP_LEVEL"] = 2] = "EXPORT_TOP_LEVEL";
    FeatureSet_VisibilityFeature_DefaultSymbolVisibility2[FeatureSet_VisibilityFeature_DefaultSymbolVisibility2["LOCAL_ALL"] = 3] = "LOCAL_ALL";
    FeatureSet_VisibilityFeature_DefaultSymbolVisibility2[FeatureSet_VisibilityFeature_DefaultSymbolVisibility2["STRICT"] = 4] = "STRICT";
  })(FeatureSet_VisibilityFeature_DefaultSymbolVisibility || (FeatureSet_VisibilityFeature_DefaultSymbolVisibility = {}));
  var FeatureSet_ProtoLimitsFeature_EnforceProtoLimits;
  (function(FeatureSet_ProtoLimitsFeature_EnforceProtoLimits2) {
    FeatureSet_ProtoLimitsFeature_EnforceProtoLimits2[FeatureSet_ProtoLimitsFeature_EnforceProtoLimits2["PROTO_LIMITS_UNKNOWN"] = 0] = "PROTO_LIMITS_UNKNOWN";
    FeatureSet_ProtoLimitsFeature_EnforceProtoLimits2[FeatureSet_ProtoLimitsFeature_EnforceProtoLimits2["LEGACY_NO_EXPLICIT_LIMITS"] = 1] = "LEGACY_NO_EXPLICIT_LIMITS";
    FeatureSet_ProtoLimitsFeature_EnforceProtoLimits2[FeatureSet_ProtoLimitsFeature_EnforceProtoLimits2["PROTO_LIMITS2026"] = 2] = "PROTO_LIMITS2026";
  })(FeatureSet_ProtoLimitsFeature_EnforceProtoLimits || (FeatureSet_ProtoLimitsFeature_EnforceProtoLimits = {}));
  var FeatureSet_FieldPresence;
  (function(FeatureSet_FieldPresence2) {
    FeatureSet_FieldPresence2[FeatureSet_FieldPresence2["FIELD_PRESENCE_UNKNOWN"] = 0] = "FIELD_PRESENCE_UNKNOWN";
    FeatureSet_FieldPresence2[FeatureSet_FieldPresence2["EXPLICIT"] = 1] = "EXPLICIT";
    FeatureSet_FieldPresence2[FeatureSet_FieldPresence2["IMPLICIT"] = 2] = "IMPLICIT";
    FeatureSet_FieldPresence2[FeatureSet_FieldPresence2["LEGACY_REQUIRED"] = 3] = "LEGACY_REQUIRED";
  })(FeatureSet_FieldPresence || (FeatureSet_FieldPresence = {}));
  var FeatureSet_EnumType;
  (function(FeatureSet_EnumType2) {
    FeatureSet_EnumType2[FeatureSet_EnumType2["ENUM_TYPE_UNKNOWN"] = 0] = "ENUM_TYPE_UNKNOWN";
    FeatureSet_EnumType2[FeatureSet_EnumType2["OPEN"] = 1] = "OPEN";
    FeatureSet_EnumType2[FeatureSet_EnumType2["CLOSED"] = 2] = "CLOSED";
  })(FeatureSet_EnumType || (FeatureSet_EnumType = {}));
  var FeatureSet_RepeatedFieldEncoding;
  (function(FeatureSet_RepeatedFieldEncoding2) {
    FeatureSet_RepeatedFieldEncoding2[FeatureSet_RepeatedFieldEncoding2["REPEATED_FIELD_ENCODING_UNKNOWN"] = 0] = "REPEATED_FIELD_ENCODING_UNKNOWN";
    FeatureSet_RepeatedFieldEncoding2[FeatureSet_RepeatedFieldEncoding2["PACKED"] = 1] = "PACKED";
    FeatureSet_RepeatedFieldEncoding2[FeatureSet_RepeatedFieldEncoding2["EXPANDED"] = 2] = "EXPANDED";
  })(FeatureSet_RepeatedFieldEncoding || (FeatureSet_RepeatedFieldEncoding = {}));
  var FeatureSet_Utf8Validation;
  (function(FeatureSet_Utf8Validation2) {
    FeatureSet_Utf8Validation2[FeatureSet_Utf8Validation2["UTF8_VALIDATION_UNKNOWN"] = 0] = "UTF8_VALIDATION_UNKNOWN";
    FeatureSet_Utf8Validation2[FeatureSet_Utf8Validation2["VERIFY"] = 2] = "VERIFY";
    FeatureSet_Utf8Validation2[FeatureSet_Utf8Validation2["NONE"] = 3] = "NONE";
  })(FeatureSet_Utf8Validation || (FeatureSet_Utf8Validation = {}));
  var FeatureSet_MessageEncoding;
  (function(FeatureSet_MessageEncoding2) {
    FeatureSet_MessageEncoding2[FeatureSet_MessageEncoding2["MESSAGE_ENCODING_UNKNOWN"] = 0] = "MESSAGE_ENCODING_UNKNOWN";
    FeatureSet_MessageEncoding2[FeatureSet_MessageEncoding2["LENGTH_PREFIXED"] = 1] = "LENGTH_PREFIXED";
    FeatureSet_MessageEncoding2[FeatureSet_MessageEncoding2["DELIMITED"] = 2] = "DELIMITED";
  })(FeatureSet_MessageEncoding || (FeatureSet_MessageEncoding = {}));
  var FeatureSet_JsonFormat;
  (function(FeatureSet_JsonFormat2) {
    FeatureSet_JsonFormat2[FeatureSet_JsonFormat2["JSON_FORMAT_UNKNOWN"] = 0] = "JSON_FORMAT_UNKNOWN";
    FeatureSet_JsonFormat2[FeatureSet_JsonFormat2["ALLOW"] = 1] = "ALLOW";
    FeatureSet_JsonFormat2[FeatureSet_JsonFormat2["LEGACY_BEST_EFFORT"] = 2] = "LEGACY_BEST_EFFORT";
  })(FeatureSet_JsonFormat || (FeatureSet_JsonFormat = {}));
  var FeatureSet_EnforceNamingStyle;
  (function(FeatureSet_EnforceNamingStyle2) {
    FeatureSet_EnforceNamingStyle2[FeatureSet_EnforceNamingStyle2["ENFORCE_NAMING_STYLE_UNKNOWN"] = 0] = "ENFORCE_NAMING_STYLE_UNKNOWN";
    FeatureSet_EnforceNamingStyle2[FeatureSet_EnforceNamingStyle2["STYLE2024"] = 1] = "STYLE2024";
    FeatureSet_EnforceNamingStyle2[FeatureSet_EnforceNamingStyle2["STYLE_LEGACY"] = 2] = "STYLE_LEGACY";
    FeatureSet_EnforceNamingStyle2[FeatureSet_EnforceNamingStyle2["STYLE2026"] = 3] = "STYLE2026";
  })(FeatureSet_EnforceNamingStyle || (FeatureSet_EnforceNamingStyle = {}));
  var GeneratedCodeInfo_Annotation_Semantic;
  (function(GeneratedCodeInfo_Annotation_Semantic2) {
    GeneratedCodeInfo_Annotation_Semantic2[GeneratedCodeInfo_Annotation_Semantic2["NONE"] = 0] = "NONE";
    GeneratedCodeInfo_Annotation_Semantic2[GeneratedCodeInfo_Annotation_Semantic2["SET"] = 1] = "SET";
    GeneratedCodeInfo_Annotation_Semantic2[GeneratedCodeInfo_Annotation_Semantic2["ALIAS"] = 2] = "ALIAS";
  })(GeneratedCodeInfo_Annotation_Semantic || (GeneratedCodeInfo_Annotation_Semantic = {}));
  var Edition;
  (function(Edition2) {
    Edition2[Edition2["EDITION_UNKNOWN"] = 0] = "EDITION_UNKNOWN";
    Edition2[Edition2["EDITION_LEGACY"] = 900] = "EDITION_LEGACY";
    Edition2[Edition2["EDITION_PROTO2"] = 998] = "EDITION_PROTO2";
    Edition2[Edition2["EDITION_PROTO3"] = 999] = "EDITION_PROTO3";
    Edition2[Edition2["EDITION_2023"] = 1e3] = "EDITION_2023";
    Edition2[Edition2["EDITION_2024"] = 1001] = "EDITION_2024";
    Edition2[Edition2["EDITION_2026"] = 1002] = "EDITION_2026";
    Edition2[Edition2["EDITION_UNSTABLE"] = 9999] = "EDITION_UNSTABLE";
    Edition2[Edition2["EDITION_1_TEST_ONLY"] = 1] = "EDITION_1_TEST_ONLY";
    Edition2[Edition2["EDITION_2_TEST_ONLY"] = 2] = "EDITION_2_TEST_ONLY";
    Edition2[Edition2["EDITION_99997_TEST_ONLY"] = 99997] = "EDITION_99997_TEST_ONLY";
    Edition2[Edition2["EDITION_99998_TEST_ONLY"] = 99998] = "EDITION_99998_TEST_ONLY";
    Edition2[Edition2["EDITION_99999_TEST_ONLY"] = 99999] = "EDITION_99999_TEST_ONLY";
    Edition2[Edition2["EDITION_MAX"] = 2147483647] = "EDITION_MAX";
  })(Edition || (Edition = {}));
  var SymbolVisibility;
  (function(SymbolVisibility2) {
    SymbolVisibility2[SymbolVisibility2["VISIBILITY_UNSET"] = 0] = "VISIBILITY_UNSET";
    SymbolVisibility2[SymbolVisibility2["VISIBILITY_LOCAL"] = 1] = "VISIBILITY_LOCAL";
    SymbolVisibility2[SymbolVisibility2["VISIBILITY_EXPORT"] = 2] = "VISIBILITY_EXPORT";
  })(SymbolVisibility || (SymbolVisibility = {}));

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/from-binary.js
  function makeReadContext(options) {
    return Object.assign(Object.assign({ readUnknownFields: true, recursionLimit: 100 }, options), { depth: 0 });
  }
  function fromBinary(schema, bytes, options) {
    const message = create(schema);
    compiledReader(schema).read(message, new BinaryReader(bytes), makeReadContext(options), bytes.byteLength);
    return message;
  }
  var compiledReaders = /* @__PURE__ */ new WeakMap();
  function compiledReader(desc) {
    let compiled = compiledReaders.get(desc);
    if (compiled === void 0) {
      compiled = compileMessage2(desc);
    }
    return compiled;
  }
  function compileMessage2(desc) {
    const descString = String(desc);
    const fieldReaders = /* @__PURE__ */ new Map();
    const compiled = {
      read: compileMessageReader(descString, fieldReaders),
      readGroup: compileGroupReader(descString, fieldReaders)
    };
    compiledReaders.set(desc, compiled);
    for (const field of desc.fields) {
      fieldReaders.set(field.number, compileFieldReader(field));
    }
    return compiled;
  }
  function compileMessageReader(descString, fieldReaders) {
    return (message, reader, ctx, length) => {
      var _a;
      if (++ctx.depth > ctx.recursionLimit) {
        throw new Error(`cannot decode ${descString} from binary: maximum recursion depth of ${ctx.recursionLimit} reached`);
      }
      const end = reader.pos + length;
      const unknownFields = (_a = message.$unknown) !== null && _a !== void 0 ? _a : [];
      while (reader.pos < end) {
        const [fieldNo, wireType] = reader.tag();
        const fieldReader = fieldReaders.get(fieldNo);
        if (fieldReader === void 0) {
          const data = reader.skip(wireType, fieldNo, ctx.recursionLimit - ctx.depth);
          if (ctx.readUnknownFields) {
            unknownFields.push({ no: fieldNo, wireType, data });
          }
          continue;
        }
        fieldReader(message, reader, ctx, wireType);
      }
      if (unknownFields.length > 0) {
        message.$unknown = unknownFields;
      }
      ctx.depth--;
    };
  }
  function compileGroupReader(descString, fieldReaders) {
    return (message, reader, ctx, fieldNo) => {
      var _a;
      if (++ctx.depth > ctx.recursionLimit) {
        throw new Error(`cannot decode ${descString} from binary: maximum recursion depth of ${ctx.recursionLimit} reached`);
      }
      let recordFieldNo;
      let wireType;
      const unknownFields = (_a = message.$unknown) !== null && _a !== void 0 ? _a : [];
      while (reader.pos < reader.len) {
        [recordFieldNo, wireType] = reader.tag();
        if (wireType == WireType.EndGroup) {
          break;
        }
        const fieldReader = fieldReaders.get(recordFieldNo);
        if (fieldReader === void 0) {
          const data = reader.skip(wireType, recordFieldNo, ctx.recursionLimit - ctx.depth);
          if (ctx.readUnknownFields) {
            unknownFields.push({ no: recordFieldNo, wireType, data });
          }
          continue;
        }
        fieldReader(message, reader, ctx, wireType);
      }
      if (wireType != WireType.EndGroup || recordFieldNo !== fieldNo) {
        throw new Error("invalid end group tag");
      }
      if (unknownFields.length > 0) {
        message.$unknown = unknownFields;
      }
      ctx.depth--;
    };
  }
  function compileFieldReader(field) {
    switch (field.fieldKind) {
      case "scalar":
        return compileScalarFieldReader(field);
      case "enum":
        return compileEnumFieldReader(field);
      case "message":
        return compileMessageFieldReader(field);
      case "list":
        return compileListFieldReader(field);
      case "map":
        return compileMapFieldReader(field);
    }
  }
  function compileScalarFieldReader(field) {
    const readScalar = compileScalarReader(field.scalar, field.utf8Validation, field.longAsString);
    const localName = field.localName;
    if (field.oneof) {
      const oneofLocalName = field.oneof.localName;
      return (message, reader) => {
        message[oneofLocalName] = {
          case: localName,
          value: readScalar(reader)
        };
      };
    }
    return (message, reader) => {
      message[localName] = readScalar(reader);
    };
  }
  function compileEnumFieldReader(field) {
    var _a;
    const localName = field.localName;
    const oneofLocalName = (_a = field.oneof) === null || _a === void 0 ? void 0 : _a.localName;
    if (field.enum.open) {
      if (oneofLocalName !== void 0) {
        return (message, reader) => {
          message[oneofLocalName] = { case: localName, value: reader.int32() };
        };
      }
      return (message, reader) => {
        message[localName] = reader.int32();
      };
    }
    const values = field.enum.values;
    const fieldNo = field.number;
    return (message, reader, ctx, wireType) => {
      var _a2;
      const val = reader.int32();
      if (values.some((v) => v.number === val)) {
        if (oneofLocalName !== void 0) {
          message[oneofLocalName] = { case: localName, value: val };
        } else {
          message[localName] = val;
        }
      } else if (ctx.readUnknownFields) {
        const bytes = [];
        varint32write(val, bytes);
        const unknownFields = (_a2 = message.$unknown) !== null && _a2 !== void 0 ? _a2 : [];
        unknownFields.push({
          no: fieldNo,
          wireType,
          data: new Uint8Array(bytes)
        });
        message.$unknown = unknownFields;
      }
    };
  }
  function compileMessageFieldReader(field) {
    const localName = field.localName;
    const { toMessage, toLocal } = localMessageMapper(field);
    const readChild = compileChildReader(field);
    if (field.oneof) {
      const oneofLocalName = field.oneof.localName;
      return (message, reader, ctx) => {
        const oneof = message[oneofLocalName];
        const child = toMessage(oneof.case === localName ? oneof.value : void 0);
        readChild(child, reader, ctx);
        message[oneofLocalName] = { case: localName, value: toLocal(child) };
      };
    }
    return (message, reader, ctx) => {
      const child = toMessage(message[localName]);
      readChild(child, reader, ctx);
      message[localName] = toLocal(child);
    };
  }
  function compileChildReader(field) {
    const compiledChild = compiledReader(field.message);
    if (field.delimitedEncoding) {
      const fieldNo = field.number;
      return (child, reader, ctx) => compiledChild.readGroup(child, reader, ctx, fieldNo);
    }
    return (child, reader, ctx) => compiledChild.read(child, reader, ctx, reader.uint32());
  }
  function compileListFieldReader(field) {
    const localName = field.localName;
    if (field.listKind == "message") {
      const { toMessage, toLocal } = localMessageMapper(field);
      const readChild = compileChildReader(field);
      return (message, reader, ctx) => {
        const child = toMessage(void 0);
        readChild(child, reader, ctx);
        message[localName].push(toLocal(child));
      };
    }
    const scalarType = field.listKind == "enum" ? ScalarType.INT32 : field.scalar;
    const longAsString = field.listKind == "scalar" ? field.longAsString : false;
    const readScalar = compileScalarReader(scalarType, field.utf8Validation, longAsString);
    const packedPossible = scalarType != ScalarType.STRING && scalarType != ScalarType.BYTES;
    return (message, reader, ctx, wireType) => {
      const items = message[localName];
      if (wireType == WireType.LengthDelimited && packedPossible) {
        const end = reader.uint32() + reader.pos;
        while (reader.pos < end) {
          items.push(readScalar(reader));
        }
      } else {
        items.push(readScalar(reader));
      }
    };
  }
  function compileMapFieldReader(field) {
    const localName = field.localName;
    const readKey = compileScalarReader(field.mapKey, field.utf8Validation, false);
    const keyZero = scalarZeroValue(field.mapKey, false);
    let readValue;
    let valueDefault;
    switch (field.mapKind) {
      case "scalar": {
        const scalar = field.scalar;
        const readScalar = compileScalarReader(scalar, field.utf8Validation, false);
        readValue = (reader) => readScalar(reader);
        if (scalar == ScalarType.BYTES) {
          valueDefault = () => new Uint8Array(0);
        } else {
          const zero = scalarZeroValue(scalar, false);
          valueDefault = () => zero;
        }
        break;
      }
      case "enum": {
        const zero = field.enum.values[0].number;
        readValue = (reader) => reader.int32();
        valueDefault = () => zero;
        break;
      }
      case "message": {
        const { toMessage, toLocal } = localMessageMapper(field);
        const readChild = compiledReader(field.message).read;
        readValue = (reader, ctx, existing) => {
          const child = toMessage(existing);
          readChild(child, reader, ctx, reader.uint32());
          return toLocal(child);
        };
        valueDefault = () => toLocal(toMessage(void 0));
        break;
      }
    }
    return (message, reader, ctx) => {
      const record = message[localName];
      let key;
      let val;
      const len = reader.uint32();
      const end = reader.pos + len;
      while (reader.pos < end) {
        const [fieldNo, wireType] = reader.tag();
        switch (fieldNo) {
          case 1:
            key = readKey(reader);
            break;
          case 2:
            val = readValue(reader, ctx, val);
            break;
          default:
            reader.skip(wireType, fieldNo, ctx.recursionLimit - ctx.depth);
        }
      }
      if (key === void 0) {
        key = keyZero;
      }
      if (val === void 0) {
        val = valueDefault();
      }
      setOwn(record, key, val);
    };
  }
  function compileScalarReader(type, utf8Validation, longAsString) {
    switch (type) {
      case ScalarType.STRING:
        return (reader) => reader.string(utf8Validation);
      case ScalarType.BOOL:
        return (reader) => reader.bool();
      case ScalarType.DOUBLE:
        return (reader) => reader.double();
      case ScalarType.FLOAT:
        return (reader) => reader.float();
      case ScalarType.INT32:
        return (reader) => reader.int32();
      case ScalarType.INT64:
        if (longAsString) {
          return (reader) => String(reader.int64());
        }
        return (reader) => reader.int64();
      case ScalarType.UINT64:
        if (longAsString) {
          return (reader) => String(reader.uint64());
        }
        return (reader) => reader.uint64();
      case ScalarType.FIXED64:
        if (longAsString) {
          return (reader) => String(reader.fixed64());
        }
        return (reader) => reader.fixed64();
      case ScalarType.BYTES:
        return (reader) => reader.bytes();
      case ScalarType.FIXED32:
        return (reader) => reader.fixed32();
      case ScalarType.SFIXED32:
        return (reader) => reader.sfixed32();
      case ScalarType.SFIXED64:
        if (longAsString) {
          return (reader) => String(reader.sfixed64());
        }
        return (reader) => reader.sfixed64();
      case ScalarType.SINT64:
        if (longAsString) {
          return (reader) => String(reader.sint64());
        }
        return (reader) => reader.sint64();
      case ScalarType.UINT32:
        return (reader) => reader.uint32();
      case ScalarType.SINT32:
        return (reader) => reader.sint32();
    }
  }

  // ../../sdk-bindings/typescript/node_modules/@bufbuild/protobuf/dist/esm/codegenv2/file.js
  function fileDesc(b64, imports) {
    var _a;
    const root = fromBinary(FileDescriptorProtoSchema, base64Decode(b64));
    root.messageType.forEach(restoreJsonNames);
    root.dependency = (_a = imports === null || imports === void 0 ? void 0 : imports.map((f) => f.proto.name)) !== null && _a !== void 0 ? _a : [];
    const reg = createEmbeddedFileRegistry(root, (protoFileName) => imports === null || imports === void 0 ? void 0 : imports.find((f) => f.proto.name === protoFileName));
    return reg.getFile(root.name);
  }

  // ../../sdk-bindings/typescript/dist/gen/cim/v1/frame_pb.js
  var file_cim_v1_frame = /* @__PURE__ */ fileDesc("ChJjaW0vdjEvZnJhbWUucHJvdG8SBmNpbS52MSLkAgoFRnJhbWUSHgoFaGVsbG8YASABKAsyDS5jaW0udjEuSGVsbG9IABIiCgd3ZWxjb21lGAIgASgLMg8uY2ltLnYxLldlbGNvbWVIABIcCgRwaW5nGAMgASgLMgwuY2ltLnYxLlBpbmdIABIcCgRwb25nGAQgASgLMgwuY2ltLnYxLlBvbmdIABIcCgRzZW5kGAUgASgLMgwuY2ltLnYxLlNlbmRIABIjCghzZW5kX2FjaxgGIAEoCzIPLmNpbS52MS5TZW5kQWNrSAASIgoHZGVsaXZlchgHIAEoCzIPLmNpbS52MS5EZWxpdmVySAASKQoLZGVsaXZlcl9hY2sYCCABKAsyEi5jaW0udjEuRGVsaXZlckFja0gAEh4KBWVycm9yGAkgASgLMg0uY2ltLnYxLkVycm9ySAASIQoHZ29fYXdheRgKIAEoCzIOLmNpbS52MS5Hb0F3YXlIAEIGCgRib2R5IqwBCgVIZWxsbxIQCgh2ZXJzaW9ucxgBIAMoDRINCgV0b2tlbhgCIAEoCRIRCglkZXZpY2VfaWQYAyABKAkSIwoGcmVzdW1lGAQgASgLMhMuY2ltLnYxLlJlc3VtZVBvaW50EhMKC2NsaWVudF9uYW1lGAUgASgJEhYKDm1heF9mcmFtZV9zaXplGAYgASgNEh0KFWhlYXJ0YmVhdF9pbnRlcnZhbF9tcxgHIAEoDSI0CgtSZXN1bWVQb2ludBINCgVlcG9jaBgBIAEoBBIWCg5sYXN0X2Fja2VkX3NlcRgCIAEoBCLtAQoHV2VsY29tZRIPCgd2ZXJzaW9uGAEgASgNEhIKCnNlc3Npb25faWQYAiABKAkSDwoHdXNlcl9pZBgDIAEoCRIdChVoZWFydGJlYXRfaW50ZXJ2YWxfbXMYBCABKA0SHAoUaGVhcnRiZWF0X3RpbWVvdXRfbXMYBSABKA0SHgoGbGltaXRzGAYgASgLMg4uY2ltLnYxLkxpbWl0cxIkCgZyZXN1bWUYByABKAsyFC5jaW0udjEuUmVzdW1lUmVzdWx0EhYKDnNlcnZlcl90aW1lX21zGAggASgEEhEKCXNlcnZlcl9pZBgJIAEoCSJ8CgZMaW1pdHMSFgoObWF4X2ZyYW1lX3NpemUYASABKA0SFQoNbWF4X2JvZHlfc2l6ZRgCIAEoDRIVCg1tYXhfaW5fZmxpZ2h0GAMgASgNEhgKEHNlbmRzX3Blcl9zZWNvbmQYBCABKA0SEgoKc2VuZF9idXJzdBgFIAEoDSJXCgxSZXN1bWVSZXN1bHQSJgoHb3V0Y29tZRgBIAEoDjIVLmNpbS52MS5SZXN1bWVPdXRjb21lEg0KBWVwb2NoGAIgASgEEhAKCG5leHRfc2VxGAMgASgEIhUKBFBpbmcSDQoFbm9uY2UYASABKAQiFQoEUG9uZxINCgVub25jZRgBIAEoBCJgCglSZWNpcGllbnQSEQoHdXNlcl9pZBgBIAEoCUgAEhIKCGdyb3VwX2lkGAIgASgJSAASJAoIZXZlcnlvbmUYAyABKAsyEC5jaW0udjEuRXZlcnlvbmVIAEIGCgRraW5kIgoKCEV2ZXJ5b25lImAKBFNlbmQSFQoNY2xpZW50X21zZ19pZBgBIAEoCRIdCgJ0bxgCIAEoCzIRLmNpbS52MS5SZWNpcGllbnQSFAoMY29udGVudF90eXBlGAMgASgJEgwKBGJvZHkYBCABKAwibgoHU2VuZEFjaxIVCg1jbGllbnRfbXNnX2lkGAEgASgJEhIKCm1lc3NhZ2VfaWQYAiABKAkSEgoKc2VudF9hdF9tcxgDIAEoBBIRCglkdXBsaWNhdGUYBCABKAgSEQoJbGl2ZV9vbmx5GAUgASgIIpcBCgdEZWxpdmVyEgsKA3NlcRgBIAEoBBISCgptZXNzYWdlX2lkGAIgASgJEhQKDGZyb21fdXNlcl9pZBgDIAEoCRIdCgJ0bxgEIAEoCzIRLmNpbS52MS5SZWNpcGllbnQSFAoMY29udGVudF90eXBlGAUgASgJEgwKBGJvZHkYBiABKAwSEgoKc2VudF9hdF9tcxgHIAEoBCIfCgpEZWxpdmVyQWNrEhEKCXVwX3RvX3NlcRgBIAEoBCJVCgVFcnJvchIMCgRjb2RlGAEgASgNEg8KB21lc3NhZ2UYAiABKAkSFQoNY2xpZW50X21zZ19pZBgDIAEoCRIWCg5yZXRyeV9hZnRlcl9tcxgEIAEoDSJbCgZHb0F3YXkSJAoGcmVhc29uGAEgASgOMhQuY2ltLnYxLkdvQXdheVJlYXNvbhIPCgdtZXNzYWdlGAIgASgJEhoKEnJlY29ubmVjdF9hZnRlcl9tcxgDIAEoDSqfAQoNUmVzdW1lT3V0Y29tZRIeChpSRVNVTUVfT1VUQ09NRV9VTlNQRUNJRklFRBAAEhgKFFJFU1VNRV9PVVRDT01FX0ZSRVNIEAESGgoWUkVTVU1FX09VVENPTUVfUkVTVU1FRBACEiAKHFJFU1VNRV9PVVRDT01FX0VQT0NIX0NIQU5HRUQQAxIWChJSRVNVTUVfT1VUQ09NRV9HQVAQBCrPAQoMR29Bd2F5UmVhc29uEh4KGkdPX0FXQVlfUkVBU09OX1VOU1BFQ0lGSUVEEAASGwoXR09fQVdBWV9SRUFTT05fU0hVVERPV04QARIjCh9HT19BV0FZX1JFQVNPTl9TRVNTSU9OX1JFUExBQ0VEEAISIAocR09fQVdBWV9SRUFTT05fVE9LRU5fRVhQSVJFRBADEh0KGUdPX0FXQVlfUkVBU09OX0xPR0dFRF9PVVQQBBIcChhHT19BV0FZX1JFQVNPTl9SRUJBTEFOQ0UQBWIGcHJvdG8z");
  var FrameSchema = /* @__PURE__ */ messageDesc(file_cim_v1_frame, 0);
  var ResumeOutcome;
  (function(ResumeOutcome2) {
    ResumeOutcome2[ResumeOutcome2["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    ResumeOutcome2[ResumeOutcome2["FRESH"] = 1] = "FRESH";
    ResumeOutcome2[ResumeOutcome2["RESUMED"] = 2] = "RESUMED";
    ResumeOutcome2[ResumeOutcome2["EPOCH_CHANGED"] = 3] = "EPOCH_CHANGED";
    ResumeOutcome2[ResumeOutcome2["GAP"] = 4] = "GAP";
  })(ResumeOutcome || (ResumeOutcome = {}));
  var GoAwayReason;
  (function(GoAwayReason2) {
    GoAwayReason2[GoAwayReason2["UNSPECIFIED"] = 0] = "UNSPECIFIED";
    GoAwayReason2[GoAwayReason2["SHUTDOWN"] = 1] = "SHUTDOWN";
    GoAwayReason2[GoAwayReason2["SESSION_REPLACED"] = 2] = "SESSION_REPLACED";
    GoAwayReason2[GoAwayReason2["TOKEN_EXPIRED"] = 3] = "TOKEN_EXPIRED";
    GoAwayReason2[GoAwayReason2["LOGGED_OUT"] = 4] = "LOGGED_OUT";
    GoAwayReason2[GoAwayReason2["REBALANCE"] = 5] = "REBALANCE";
  })(GoAwayReason || (GoAwayReason = {}));

  // ../../sdk-bindings/typescript/dist/core/backoff.js
  var BACKOFF_BASE_MS = 500;
  var BACKOFF_CAP_MS = 3e4;
  var RELOGIN_AFTER_FAILED_ATTEMPTS = 3;
  function backoffBoundMs(attempt) {
    return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16));
  }
  function backoffDelayMs(attempt, random) {
    return Math.floor(random() * backoffBoundMs(attempt));
  }
  function goAwayDelayMs(reconnectAfterMs, random) {
    if (reconnectAfterMs <= 0)
      return void 0;
    return reconnectAfterMs + Math.floor(random() * reconnectAfterMs);
  }

  // ../../sdk-bindings/typescript/dist/core/codec.js
  var KNOWN_BODIES = /* @__PURE__ */ new Set([
    "hello",
    "welcome",
    "ping",
    "pong",
    "send",
    "sendAck",
    "deliver",
    "deliverAck",
    "error",
    "goAway"
  ]);
  function decodeFrame(payload) {
    let frame;
    try {
      frame = fromBinary(FrameSchema, payload);
    } catch (e) {
      return { code: ErrorCode.MALFORMED_FRAME, message: `not a Frame: ${e.message}` };
    }
    if (frame.body.case === void 0 || !KNOWN_BODIES.has(frame.body.case)) {
      return { code: ErrorCode.UNKNOWN_FRAME, message: "a Frame without a body this client knows" };
    }
    return frame;
  }
  function encodeFrame(body) {
    return toBinary(FrameSchema, create(FrameSchema, { body }));
  }

  // ../../sdk-bindings/typescript/dist/core/framing.js
  var DEFAULT_MAX_FRAME_SIZE = 65536;
  function lengthPrefixed(payload) {
    const prefix = [];
    let length = payload.length;
    while (length >= 128) {
      prefix.push(length & 127 | 128);
      length >>>= 7;
    }
    prefix.push(length);
    const out = new Uint8Array(prefix.length + payload.length);
    out.set(prefix, 0);
    out.set(payload, prefix.length);
    return out;
  }
  var TcpFrameDecoder = class {
    constructor(maxFrameSize = DEFAULT_MAX_FRAME_SIZE) {
      __publicField(this, "maxFrameSize");
      __publicField(this, "buffer", new Uint8Array(0));
      __publicField(this, "failed", false);
      this.maxFrameSize = maxFrameSize;
    }
    push(chunk) {
      const frames = [];
      if (this.failed)
        return { frames };
      this.buffer = this.buffer.length === 0 ? chunk : concat(this.buffer, chunk);
      let offset = 0;
      for (; ; ) {
        const prefix = readLengthPrefix(this.buffer, offset);
        if (prefix === "incomplete")
          break;
        if ("error" in prefix) {
          this.failed = true;
          this.buffer = new Uint8Array(0);
          return { frames, error: prefix.error };
        }
        if (prefix.length > this.maxFrameSize) {
          this.failed = true;
          this.buffer = new Uint8Array(0);
          const message = `a frame of ${prefix.length} bytes is over the limit of ${this.maxFrameSize}`;
          return { frames, error: { code: ErrorCode.FRAME_TOO_LARGE, message } };
        }
        const start = offset + prefix.size;
        const end = start + prefix.length;
        if (end > this.buffer.length)
          break;
        frames.push(this.buffer.slice(start, end));
        offset = end;
      }
      this.buffer = offset === 0 ? this.buffer : this.buffer.slice(offset);
      return { frames };
    }
  };
  function readLengthPrefix(buffer, offset) {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      if (offset + i >= buffer.length)
        return "incomplete";
      const byte = buffer[offset + i];
      value += (byte & 127) * 2 ** (7 * i);
      if ((byte & 128) === 0) {
        if (value > 4294967295) {
          return { error: { code: ErrorCode.BAD_LENGTH_PREFIX, message: "a length prefix over 4294967295" } };
        }
        return { length: value, size: i + 1 };
      }
    }
    return { error: { code: ErrorCode.BAD_LENGTH_PREFIX, message: "a length prefix of more than 5 bytes" } };
  }
  function websocketPayload(message, maxFrameSize = DEFAULT_MAX_FRAME_SIZE) {
    if (typeof message === "string") {
      return { code: ErrorCode.MALFORMED_FRAME, message: "a WebSocket text message, not a binary one" };
    }
    if (message.length > maxFrameSize) {
      const text = `a WebSocket message of ${message.length} bytes is over the limit of ${maxFrameSize}`;
      return { code: ErrorCode.FRAME_TOO_LARGE, message: text };
    }
    return message;
  }
  function concat(a, b) {
    const out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  }

  // ../../sdk-bindings/typescript/dist/core/inbox.js
  var REMEMBERED_MESSAGE_IDS = 1024;
  var Inbox = class {
    constructor(resume) {
      __publicField(this, "point");
      __publicField(this, "sentInHello");
      __publicField(this, "recentIds", /* @__PURE__ */ new Set());
      __publicField(this, "recentOrder", []);
      __publicField(this, "unprocessed", []);
      // Per session:
      __publicField(this, "sessionEpoch", 0n);
      __publicField(this, "expectedSeq", 0n);
      /** The highest seq the server sent on this session, or `next_seq` − 1 before any. */
      __publicField(this, "sessionHigh", 0n);
      __publicField(this, "ackedOnSession", 0n);
      this.point = resume;
    }
    /** The resume point, if the device has one. */
    get resumePoint() {
      return this.point && { ...this.point };
    }
    /** The resume point to put in Hello.resume (CIM-8.4-2), remembered to judge the Welcome. */
    helloResume() {
      this.sentInHello = this.point && { ...this.point };
      return this.sentInHello;
    }
    /** Takes the Welcome's ResumeResult; returns how it continued and whether to report a loss. */
    welcome(outcome, epoch, nextSeq) {
      const sent = this.sentInHello;
      const lost = discontinuity(outcome, epoch, sent);
      const startsAt = nextSeq > 0n ? nextSeq - 1n : 0n;
      if (this.point && this.point.epoch === epoch && lost === void 0) {
        if (startsAt > this.point.lastAckedSeq)
          this.point.lastAckedSeq = startsAt;
      } else {
        this.point = { epoch, lastAckedSeq: startsAt };
      }
      this.sessionEpoch = epoch;
      this.expectedSeq = nextSeq;
      this.sessionHigh = startsAt;
      this.ackedOnSession = startsAt;
      const kind = lost ?? (outcome === ResumeOutcome.RESUMED ? "resumed" : "fresh");
      return lost === void 0 ? { kind } : { kind, lost };
    }
    /** Judges a Deliver of `seq` carrying `messageId` on the current session. */
    deliver(seq, messageId) {
      if (seq === 0n) {
        if (this.recentIds.has(messageId))
          return { hand: false };
        this.remember(messageId);
        return { hand: true, delivery: void 0 };
      }
      if (seq !== this.expectedSeq) {
        return { hand: false, violation: `Deliver seq ${seq} where ${this.expectedSeq} was due` };
      }
      this.expectedSeq = seq + 1n;
      this.sessionHigh = seq;
      const epoch = this.sessionEpoch;
      if (this.point && this.point.epoch === epoch && seq <= this.point.lastAckedSeq)
        return { hand: false };
      if (this.recentIds.has(messageId)) {
        this.unprocessed.push({ epoch, seq, hidden: true });
        this.processHidden();
        return { hand: false };
      }
      this.remember(messageId);
      this.unprocessed.push({ epoch, seq, hidden: false });
      return { hand: true, delivery: { epoch, seq } };
    }
    /** The application took the entry of `delivery`: it counts in the resume point (CIM-8.4-1). */
    processed(delivery) {
      const index = this.unprocessed.findIndex((u) => u.epoch === delivery.epoch && u.seq === delivery.seq);
      if (index < 0)
        return;
      const done = this.unprocessed.splice(0, index + 1);
      for (const entry of done)
        this.advance(entry);
      this.processHidden();
    }
    /** The `up_to_seq` of a DeliverAck due now on this session, if one is. */
    ackDue() {
      if (!this.point || this.point.epoch !== this.sessionEpoch)
        return void 0;
      const upTo = this.point.lastAckedSeq < this.sessionHigh ? this.point.lastAckedSeq : this.sessionHigh;
      return upTo > this.ackedOnSession && upTo > 0n ? upTo : void 0;
    }
    /** A DeliverAck up to `upTo` went out. */
    acked(upTo) {
      this.ackedOnSession = upTo;
    }
    processHidden() {
      while (this.unprocessed.length > 0 && this.unprocessed[0].hidden) {
        this.advance(this.unprocessed.shift());
      }
    }
    advance(entry) {
      if (this.point && this.point.epoch === entry.epoch && entry.seq > this.point.lastAckedSeq) {
        this.point.lastAckedSeq = entry.seq;
      }
    }
    remember(messageId) {
      this.recentIds.add(messageId);
      this.recentOrder.push(messageId);
      if (this.recentOrder.length > REMEMBERED_MESSAGE_IDS) {
        this.recentIds.delete(this.recentOrder.shift());
      }
    }
  };
  function discontinuity(outcome, epoch, sent) {
    if (outcome === ResumeOutcome.EPOCH_CHANGED)
      return "epoch_changed";
    if (sent !== void 0 && sent.epoch !== 0n && sent.epoch !== epoch)
      return "epoch_changed";
    if (outcome === ResumeOutcome.GAP)
      return "gap";
    if (sent === void 0)
      return void 0;
    if (outcome !== ResumeOutcome.RESUMED && outcome !== ResumeOutcome.FRESH)
      return "gap";
    return void 0;
  }

  // ../../sdk-bindings/typescript/dist/core/limits.js
  var DEFAULT_HEARTBEAT_INTERVAL_MS = 3e4;
  var DEFAULT_HEARTBEAT_TIMEOUT_MS = 75e3;
  var WELCOME_TIMEOUT_MS = 1e4;
  function sessionTerms(welcome) {
    const l = welcome.limits;
    return {
      heartbeatIntervalMs: welcome.heartbeatIntervalMs || DEFAULT_HEARTBEAT_INTERVAL_MS,
      heartbeatTimeoutMs: welcome.heartbeatTimeoutMs || DEFAULT_HEARTBEAT_TIMEOUT_MS,
      limits: {
        maxFrameSize: l?.maxFrameSize || DEFAULT_MAX_FRAME_SIZE,
        maxBodySize: l?.maxBodySize || 32768,
        maxInFlight: l?.maxInFlight || 64,
        sendsPerSecond: l?.sendsPerSecond || 100,
        sendBurst: l?.sendBurst || 200
      }
    };
  }
  var SendBucket = class {
    constructor(limits, now2) {
      __publicField(this, "limits");
      __publicField(this, "tokens");
      __publicField(this, "refilledAt");
      this.limits = limits;
      this.tokens = limits.sendBurst;
      this.refilledAt = now2;
    }
    /** Takes a token if there is one. */
    take(now2) {
      this.refill(now2);
      if (this.tokens < 1)
        return false;
      this.tokens -= 1;
      return true;
    }
    /** When the next token is there. */
    nextTokenAt(now2) {
      this.refill(now2);
      if (this.tokens >= 1)
        return now2;
      return now2 + Math.ceil((1 - this.tokens) * 1e3 / this.limits.sendsPerSecond);
    }
    refill(now2) {
      const gained = (now2 - this.refilledAt) * this.limits.sendsPerSecond / 1e3;
      this.tokens = Math.min(this.limits.sendBurst, this.tokens + gained);
      this.refilledAt = now2;
    }
  };

  // ../../sdk-bindings/typescript/dist/core/outbox.js
  var SEND_GIVE_UP_MS = 24 * 60 * 60 * 1e3;
  var Outbox = class {
    constructor() {
      __publicField(this, "entries", []);
    }
    add(entry) {
      this.entries.push({ ...entry, inFlight: false, notBefore: 0, retries: 0 });
    }
    get size() {
      return this.entries.length;
    }
    inFlightCount() {
      let count = 0;
      for (const entry of this.entries)
        if (entry.inFlight)
          count++;
      return count;
    }
    /** The Send in flight with this id; an answer to anything else is ignored (CIM-7.2-8). */
    inFlight(clientMsgId) {
      return this.entries.find((e) => e.inFlight && e.clientMsgId === clientMsgId);
    }
    /** The oldest message that may go out at `now`: retransmissions come first since they are
     * older (CIM-9.2-3). */
    nextToSend(now2) {
      return this.entries.find((e) => !e.inFlight && e.notBefore <= now2);
    }
    /** The earliest time a waiting message may go out, if one waits for its time. */
    nextNotBefore(now2) {
      let earliest;
      for (const e of this.entries) {
        if (!e.inFlight && e.notBefore > now2 && (earliest === void 0 || e.notBefore < earliest)) {
          earliest = e.notBefore;
        }
      }
      return earliest;
    }
    remove(entry) {
      const index = this.entries.indexOf(entry);
      if (index >= 0)
        this.entries.splice(index, 1);
    }
    /** The connection ended: every Send in flight is unanswered and goes out again (CIM-13.2-1). */
    connectionEnded() {
      for (const entry of this.entries)
        entry.inFlight = false;
    }
    /** Removes and returns the messages older than {@link SEND_GIVE_UP_MS}. */
    takeExpired(now2) {
      const expired = this.entries.filter((e) => now2 - e.createdAt >= SEND_GIVE_UP_MS);
      for (const entry of expired)
        this.remove(entry);
      return expired;
    }
    /** Removes and returns everything (the client closes). */
    takeAll() {
      return this.entries.splice(0, this.entries.length);
    }
  };

  // ../../sdk-bindings/typescript/dist/core/sending.js
  var MAX_SEND_RETRIES = 5;
  var Sending = class {
    constructor(host) {
      __publicField(this, "host");
      __publicField(this, "outbox", new Outbox());
      /** Set while the send rate holds messages back (CIM-10.3-5). */
      __publicField(this, "pacedUntil");
      this.host = host;
    }
    /** Queues a message; `pump` sends it. */
    add(handle, clientMsgId, to, contentType, body, now2) {
      this.outbox.add({ handle, clientMsgId, to: recipientOf(to), contentType, body, createdAt: now2 });
    }
    /** When `pump` has work on an open session next: a retry's time or the rate's next token. */
    nextDue(now2) {
      const waiting = this.outbox.nextNotBefore(now2);
      if (waiting === void 0)
        return this.pacedUntil;
      return this.pacedUntil === void 0 ? waiting : Math.min(waiting, this.pacedUntil);
    }
    /** Fails what waited too long, then sends what may go out now on `channel` (none while no
     * session is open): in order, within max_in_flight and the rate (§10.3). */
    pump(now2, channel) {
      for (const expired of this.outbox.takeExpired(now2)) {
        this.host.settle(expired.handle, void 0, new RejectedError("no answer from the server within 24 hours"));
      }
      if (!channel)
        return;
      const { limits, bucket } = channel;
      this.pacedUntil = void 0;
      while (this.outbox.inFlightCount() < limits.maxInFlight) {
        const entry = this.outbox.nextToSend(now2);
        if (!entry)
          return;
        const refusal2 = sizeRefusal(entry, limits.maxFrameSize, limits.maxBodySize);
        if (refusal2) {
          this.outbox.remove(entry);
          this.host.settle(entry.handle, void 0, refusal2);
          continue;
        }
        if (!bucket.take(now2)) {
          this.pacedUntil = bucket.nextTokenAt(now2);
          return;
        }
        entry.inFlight = true;
        channel.write(sendOf(entry));
      }
    }
    /** A SendAck; false when it answers nothing in flight. */
    acked(clientMsgId, ack) {
      const entry = this.outbox.inFlight(clientMsgId);
      if (!entry) {
        this.host.log(`a SendAck for ${clientMsgId}, which is not in flight: ignored`);
        return false;
      }
      this.outbox.remove(entry);
      const sentAtMs = Number(ack.sentAtMs);
      this.host.settle(entry.handle, { messageId: ack.messageId, sentAtMs, duplicate: ack.duplicate, liveOnly: ack.liveOnly });
      return true;
    }
    /** An Error rejecting one Send; the connection stays open whatever the code (CIM-11.1-7).
     * False when it answers nothing in flight. */
    rejected(error, now2) {
      const entry = this.outbox.inFlight(error.clientMsgId);
      if (!entry) {
        this.host.log(`an Error for ${error.clientMsgId}, which is not in flight: ignored`);
        return false;
      }
      const unlimited = error.code === ErrorCode.OUTCOME_UNKNOWN || error.code === ErrorCode.RATE_LIMITED || error.code === ErrorCode.IN_FLIGHT_EXCEEDED;
      if (retryOf(error.code) === "after" && (unlimited || entry.retries < MAX_SEND_RETRIES)) {
        const wait = Math.max(error.retryAfterMs, backoffDelayMs(entry.retries, () => this.host.random()));
        entry.retries++;
        entry.inFlight = false;
        entry.notBefore = now2 + wait;
        this.host.log(`${errorName(error.code)} for ${entry.clientMsgId}: sent again in ${wait} ms`);
      } else {
        this.outbox.remove(entry);
        this.host.settle(entry.handle, void 0, errorForCode(error.code, error.message || errorName(error.code), error.retryAfterMs));
      }
      return true;
    }
    /** The connection ended: everything in flight goes out again on the next (CIM-13.2-1). */
    connectionEnded() {
      this.outbox.connectionEnded();
      this.pacedUntil = void 0;
    }
    /** The client stops: every message still unanswered fails with `error`. */
    failAll(error) {
      for (const entry of this.outbox.takeAll())
        this.host.settle(entry.handle, void 0, error());
    }
  };
  function sizeRefusal(entry, maxFrameSize, maxBodySize) {
    if (entry.body.length > maxBodySize) {
      return new RejectedError(`a body of ${entry.body.length} bytes is over the server's limit of ${maxBodySize}`, ErrorCode.BODY_TOO_LARGE);
    }
    const size = encodeFrame({ case: "send", value: sendOf(entry) }).length;
    if (size > maxFrameSize) {
      return new InvalidInputError(`the message makes a frame of ${size} bytes, over the server's limit of ${maxFrameSize}`, ErrorCode.FRAME_TOO_LARGE);
    }
    return void 0;
  }
  function recipientOf(to) {
    if ("userId" in to)
      return { kind: { case: "userId", value: to.userId } };
    if ("groupId" in to)
      return { kind: { case: "groupId", value: to.groupId } };
    return { kind: { case: "everyone", value: {} } };
  }
  function sendOf(entry) {
    return { clientMsgId: entry.clientMsgId, to: entry.to, contentType: entry.contentType, body: entry.body };
  }

  // ../../sdk-bindings/typescript/dist/core/session.js
  var SUPPORTED_VERSIONS = [1];
  var LINK_OPEN_TIMEOUT_MS = 1e4;
  var GOAWAY_CLOSE_WAIT_MS = 1e4;
  var ACK_DELAY_MS = 100;
  var MAX_EVENTS_WAITING = 1024;
  var MAX_HELD_BYTES = 256 * 1024;
  var HELD_BYTES_CLOSE = 1024 * 1024;
  var ClientCore = class {
    constructor(config, login, now2) {
      __publicField(this, "config");
      __publicField(this, "phase");
      __publicField(this, "outputs", []);
      __publicField(this, "inbox");
      __publicField(this, "sending", new Sending({
        settle: (handle, ack, error) => this.settle(handle, ack, error),
        log: (line) => this.log(line),
        random: () => this.config.random()
      }));
      /** The `now` of the latest input. */
      __publicField(this, "lastNow", 0);
      __publicField(this, "login");
      __publicField(this, "nextLinkId", 1);
      /** Attempts since the last Welcome that did not reach one (§13.1). */
      __publicField(this, "failedAttempts", 0);
      __publicField(this, "failedLogins", 0);
      __publicField(this, "userId");
      /** Events handed to the driver and not yet taken by the application. */
      __publicField(this, "waiting", 0);
      this.config = config;
      this.inbox = new Inbox(config.resume);
      this.login = login;
      this.userId = login?.userId ?? "";
      this.phase = { name: "waiting", until: now2, then: login ? "connect" : "login" };
    }
    // ----- outputs -----
    poll() {
      return this.outputs.shift();
    }
    /** When `handleTimeout` is due next, if ever. */
    pollTimeout() {
      const p = this.phase;
      if (p.name === "waiting")
        return this.behind ? void 0 : p.until;
      if (p.name !== "linked")
        return void 0;
      const link = p.link;
      const times = [link.deadline];
      if (link.terms) {
        times.push(link.lastReceivedAt + link.terms.heartbeatTimeoutMs);
        times.push(link.lastSentAt + link.terms.heartbeatIntervalMs);
      }
      if (link.ackAt !== void 0)
        times.push(link.ackAt);
      if (link.stage === "open") {
        const due = this.sending.nextDue(this.lastNow);
        if (due !== void 0)
          times.push(due);
      }
      return Math.min(...times);
    }
    get closed() {
      return this.phase.name === "closed";
    }
    get resumePoint() {
      return this.inbox.resumePoint;
    }
    get currentUserId() {
      return this.userId;
    }
    /** The token of the current login, for route calls (never logged). */
    get token() {
      return this.login?.token;
    }
    /** Events handed out (`event` outputs) that the application has not taken yet. */
    get eventsWaiting() {
      return this.waiting;
    }
    /** Whether the application is so far behind that nothing more is handed over. */
    get behind() {
      return this.waiting >= MAX_EVENTS_WAITING;
    }
    // ----- inputs from the application -----
    /** Queues a message; its outcome comes out as `send_done` with `handle`. */
    submitSend(handle, clientMsgId, to, contentType, body, now2) {
      if (this.phase.name === "closed") {
        this.settle(handle, void 0, new ClosedError("the client is closed"));
        return;
      }
      this.sending.add(handle, clientMsgId, to, contentType, body, now2);
      this.pump(now2);
    }
    /** The application took an event; `delivery` is the one the event carried, if any: that
     * message is now processed (CIM-8.3-1). */
    handleTaken(delivery, now2) {
      this.lastNow = now2;
      if (this.waiting > 0)
        this.waiting--;
      if (delivery) {
        this.inbox.processed(delivery);
        this.scheduleAck(now2);
      }
      if (this.phase.name === "linked")
        this.handOverHeld(this.phase.link, now2);
    }
    /** Stops for good: closes the link and fails what is unanswered. */
    close(message, now2) {
      this.lastNow = now2;
      if (this.phase.name === "closed")
        return;
      if (this.phase.name === "linked")
        this.output({ kind: "close_link", linkId: this.phase.link.id });
      this.stop(message, void 0);
    }
    // ----- inputs from the route -----
    /** A login made for the route calls' sake (the session stays up, §14.2) gave a new token
     * for the same device: the next Hello presents it, on the server this session has. */
    handleTokenRenewed(login, now2) {
      this.lastNow = now2;
      if (!this.login || login.userId !== this.login.userId)
        return;
      this.login = { ...this.login, token: login.token, tokenExpiresAtMs: login.tokenExpiresAtMs };
    }
    handleLoginResult(result, now2) {
      this.lastNow = now2;
      if (this.phase.name !== "logging_in")
        return;
      if ("login" in result) {
        this.login = result.login;
        this.userId = result.login.userId;
        this.failedLogins = 0;
        this.connect(now2);
        return;
      }
      const { error } = result;
      const retry = error.code === void 0 ? "after" : retryOf(error.code);
      if (retry !== "after") {
        this.stop(`login refused: ${error.message}`, error.code);
        return;
      }
      const delay = Math.max(backoffDelayMs(this.failedLogins++, this.config.random), error.retryAfterMs ?? 0);
      this.log(`login failed (${error.message}); again in ${delay} ms`);
      this.phase = { name: "waiting", until: now2 + delay, then: "login" };
      this.event({ type: "disconnected", message: `login failed: ${error.message}`, code: error.code, retryInMs: delay });
    }
    // ----- inputs from links -----
    handleLinkOpened(linkId, now2) {
      this.lastNow = now2;
      const link = this.currentLink(linkId);
      if (!link || link.stage !== "opening" || !this.login)
        return;
      link.stage = "handshake";
      link.deadline = now2 + WELCOME_TIMEOUT_MS;
      link.lastReceivedAt = now2;
      const resume = this.inbox.helloResume();
      this.transmit(link, {
        case: "hello",
        value: {
          versions: [...SUPPORTED_VERSIONS],
          token: this.login.token,
          // as issued, never parsed (CIM-5.1-4)
          deviceId: this.config.deviceId,
          resume: resume && { epoch: resume.epoch, lastAckedSeq: resume.lastAckedSeq },
          clientName: this.config.clientName,
          maxFrameSize: 0,
          // 65536, the minimum; Limits keep every Deliver within it (CIM-10.1-4)
          heartbeatIntervalMs: this.config.heartbeatIntervalMs
        }
      }, now2);
    }
    /** Bytes (TCP) or a message (WebSocket) arrived on a link. */
    handleLinkData(linkId, data, now2) {
      this.lastNow = now2;
      const link = this.currentLink(linkId);
      if (!link || link.stage === "opening")
        return;
      let payloads;
      let fault;
      if (this.config.framing === "tcp") {
        if (typeof data === "string")
          return;
        const decoded = link.decoder.push(data);
        payloads = decoded.frames;
        fault = decoded.error;
      } else {
        const payload = websocketPayload(data);
        payloads = payload instanceof Uint8Array ? [payload] : [];
        fault = payload instanceof Uint8Array ? void 0 : payload;
      }
      for (const payload of payloads) {
        const frame = decodeFrame(payload);
        if (!("body" in frame)) {
          this.protocolViolation(link, frame.code, frame.message, now2);
          return;
        }
        link.lastReceivedAt = now2;
        const body = frame.body;
        if (body.case === "deliver" && link.stage !== "handshake" && (this.behind || link.held.length > 0)) {
          this.hold(link, body.value, payload.length, now2);
        } else {
          this.handleFrame(link, frame, now2);
        }
        if (this.currentLink(linkId) !== link)
          return;
      }
      if (fault)
        this.protocolViolation(link, fault.code, fault.message, now2);
    }
    /** The link closed, or could not be opened; `why` is for people. */
    handleLinkClosed(linkId, why, now2) {
      this.lastNow = now2;
      const link = this.currentLink(linkId);
      if (!link)
        return;
      if (link.goAway) {
        this.ended(link, link.goAway, now2);
      } else {
        this.ended(link, { message: `connection lost: ${why}`, then: "reconnect" }, now2);
      }
    }
    handleTimeout(now2) {
      this.lastNow = now2;
      const p = this.phase;
      if (p.name === "waiting") {
        if (now2 >= p.until && !this.behind) {
          if (p.then === "login" || !this.login)
            this.startLogin();
          else
            this.connect(now2);
        }
        return;
      }
      if (p.name !== "linked")
        return;
      const link = p.link;
      if (now2 >= link.deadline) {
        this.output({ kind: "close_link", linkId: link.id });
        const ending = link.goAway ?? {
          message: link.stage === "opening" ? "could not connect in time" : "no Welcome within 10 s",
          then: "reconnect"
        };
        this.ended(link, ending, now2);
        return;
      }
      if (link.terms) {
        if (now2 - link.lastReceivedAt >= link.terms.heartbeatTimeoutMs) {
          const why = link.paused ? " (reading paused: the application has not taken its events)" : "";
          this.protocolViolation(link, ErrorCode.HEARTBEAT_TIMEOUT, `nothing received within the heartbeat timeout${why}`, now2);
          return;
        }
        if (now2 - link.lastSentAt >= link.terms.heartbeatIntervalMs) {
          const nonce = link.nextPingNonce++;
          link.pingsOut.set(nonce, now2);
          this.transmit(link, { case: "ping", value: { nonce } }, now2);
        }
      }
      if (link.ackAt !== void 0 && now2 >= link.ackAt) {
        link.ackAt = void 0;
        this.sendAck(link, now2);
      }
      this.pump(now2);
    }
    // ----- frames -----
    handleFrame(link, frame, now2) {
      const body = frame.body;
      if (link.stage === "handshake") {
        if (body.case === "welcome")
          return this.handleWelcome(link, body.value, now2);
        if (body.case === "error")
          return this.handleError(link, body.value, now2);
        if (body.case === "goAway")
          return this.handleGoAway(link, body.value, now2);
        return this.protocolViolation(link, ErrorCode.UNEXPECTED_FRAME, `${body.case} before Welcome`, now2);
      }
      switch (body.case) {
        case "ping":
          this.transmit(link, { case: "pong", value: { nonce: body.value.nonce } }, now2);
          return;
        case "pong":
          link.pingsOut.delete(body.value.nonce);
          return;
        case "sendAck":
          if (this.sending.acked(body.value.clientMsgId, body.value))
            this.pump(now2);
          return;
        case "deliver":
          return this.handleDeliver(link, body.value, now2);
        case "error":
          return this.handleError(link, body.value, now2);
        case "goAway":
          return this.handleGoAway(link, body.value, now2);
        default:
          return this.protocolViolation(link, ErrorCode.UNEXPECTED_FRAME, `${body.case} from the server`, now2);
      }
    }
    handleWelcome(link, welcome, now2) {
      if (!SUPPORTED_VERSIONS.includes(welcome.version)) {
        return this.protocolViolation(link, ErrorCode.INVALID_FIELD, `Welcome.version ${welcome.version} was not offered`, now2);
      }
      if (!welcome.sessionId || !welcome.userId || !welcome.resume) {
        return this.protocolViolation(link, ErrorCode.INVALID_FIELD, "Welcome without session_id, user_id or resume", now2);
      }
      link.stage = "open";
      link.deadline = Number.POSITIVE_INFINITY;
      link.terms = sessionTerms(welcome);
      link.bucket = new SendBucket(link.terms.limits, now2);
      link.lastSentAt = now2;
      this.failedAttempts = 0;
      const r = welcome.resume;
      const { kind, lost } = this.inbox.welcome(r.outcome, r.epoch, r.nextSeq);
      this.log(`session ${welcome.sessionId} on ${welcome.serverId || "?"}: ${kind}, next seq ${r.nextSeq}`);
      this.event({ type: "connected", sessionId: welcome.sessionId, serverId: welcome.serverId, userId: welcome.userId, resumed: kind });
      if (lost)
        this.event({ type: "messages_lost", reason: lost, epoch: r.epoch });
      this.pump(now2);
    }
    handleDeliver(link, deliver, now2) {
      const verdict = this.inbox.deliver(deliver.seq, deliver.messageId);
      if (!verdict.hand) {
        if (verdict.violation)
          this.protocolViolation(link, ErrorCode.INVALID_FIELD, verdict.violation, now2);
        else
          this.scheduleAck(now2);
        return;
      }
      const sentAtMs = Number(deliver.sentAtMs);
      this.output({
        kind: "event",
        event: {
          type: "message",
          seq: Number(deliver.seq),
          messageId: deliver.messageId,
          // opaque (CIM-7.5-5)
          fromUserId: deliver.fromUserId,
          to: targetOf(deliver),
          contentType: deliver.contentType || "text/plain",
          // CIM-7.1-11
          body: deliver.body,
          text: new TextDecoder().decode(deliver.body),
          sentAtMs,
          sentAt: new Date(sentAtMs)
        },
        ...verdict.delivery ? { delivery: verdict.delivery } : {}
      });
    }
    handleError(link, error, now2) {
      if (error.clientMsgId) {
        if (this.sending.rejected(error, now2))
          this.pump(now2);
        return;
      }
      this.output({ kind: "close_link", linkId: link.id });
      const message = `the server ended the connection: ${errorName(error.code)} (${error.code}) ${error.message}`;
      const retry = retryOf(error.code);
      const then = retry === "no" ? "stop" : retry === "relogin" ? "relogin" : "reconnect";
      this.ended(link, { message, code: error.code, then, minDelayMs: error.retryAfterMs }, now2);
    }
    handleGoAway(link, goAway, now2) {
      if (link.goAway)
        return;
      const reason = goAway.reason;
      const name = GoAwayReason[reason] ?? `reason ${reason}`;
      const message = `the server is closing the connection (${name}): ${goAway.message}`;
      const delayMs = goAwayDelayMs(goAway.reconnectAfterMs, this.config.random);
      let then;
      if (reason === GoAwayReason.SESSION_REPLACED || reason === GoAwayReason.LOGGED_OUT) {
        then = "stop";
      } else {
        then = "relogin";
      }
      const ending = { message, then };
      if (delayMs !== void 0)
        ending.delayMs = delayMs;
      link.goAway = ending;
      link.stage = link.stage === "open" ? "draining" : link.stage;
      link.deadline = now2 + GOAWAY_CLOSE_WAIT_MS;
      this.log(message);
    }
    /** The server broke the protocol: tell it why, close, and try again with backoff. */
    protocolViolation(link, code, message, now2) {
      this.log(`closing the connection: ${errorName(code)}: ${message}`);
      this.transmit(link, { case: "error", value: { code, message } }, now2);
      this.output({ kind: "close_link", linkId: link.id });
      this.ended(link, { message: `protocol error: ${errorName(code)}: ${message}`, code, then: "reconnect" }, now2);
    }
    // ----- connections -----
    startLogin() {
      this.phase = { name: "logging_in" };
      this.output({ kind: "login" });
    }
    connect(now2) {
      if (!this.login)
        return this.startLogin();
      if (this.behind) {
        this.phase = { name: "waiting", until: now2, then: "connect" };
        return;
      }
      const link = {
        id: this.nextLinkId++,
        stage: "opening",
        deadline: now2 + LINK_OPEN_TIMEOUT_MS,
        decoder: new TcpFrameDecoder(),
        lastSentAt: now2,
        lastReceivedAt: now2,
        nextPingNonce: 1n,
        pingsOut: /* @__PURE__ */ new Map(),
        held: [],
        heldBytes: 0,
        paused: false
      };
      this.phase = { name: "linked", link };
      this.output({ kind: "connect", linkId: link.id, login: this.login });
    }
    /** The connection of `link` is over; decide what comes next. */
    ended(link, ending, now2) {
      const welcomed = link.terms !== void 0;
      this.sending.connectionEnded();
      if (ending.then === "stop")
        return this.stop(ending.message, ending.code);
      if (!welcomed)
        this.failedAttempts++;
      let relogin = ending.then === "relogin";
      if (this.failedAttempts > 0 && this.failedAttempts % RELOGIN_AFTER_FAILED_ATTEMPTS === 0)
        relogin = true;
      if (relogin)
        this.login = void 0;
      let delay = ending.delayMs ?? backoffDelayMs(this.failedAttempts, this.config.random);
      delay = Math.max(delay, ending.minDelayMs ?? 0);
      this.phase = { name: "waiting", until: now2 + delay, then: relogin ? "login" : "connect" };
      this.log(`${ending.message}; ${relogin ? "logging in" : "connecting"} again in ${delay} ms`);
      const event = { type: "disconnected", message: ending.message, code: ending.code, retryInMs: delay };
      this.event(event);
    }
    stop(message, code) {
      this.phase = { name: "closed" };
      this.sending.failAll(() => new ClosedError(`the client closed before the server answered: ${message}`, code));
      this.log(`closed: ${message}`);
      this.event({ type: "closed", message, code });
    }
    currentLink(linkId) {
      return this.phase.name === "linked" && this.phase.link.id === linkId ? this.phase.link : void 0;
    }
    // ----- flow control toward the application -----
    /** Keeps a Deliver back while the application is behind; stops reading when too many are. */
    hold(link, deliver, size, now2) {
      link.held.push({ deliver, size });
      link.heldBytes += size;
      if (link.heldBytes > HELD_BYTES_CLOSE) {
        this.output({ kind: "close_link", linkId: link.id });
        this.ended(link, { message: "the application has not taken its events; reconnecting once it has", then: "reconnect" }, now2);
      } else if (link.heldBytes > MAX_HELD_BYTES && !link.paused) {
        link.paused = true;
        this.log(`${this.waiting} events wait for the application: reading paused`);
        this.output({ kind: "pause_link", linkId: link.id });
      }
    }
    /** Hands held Delivers over, in order, while the application has room for them. */
    handOverHeld(link, now2) {
      while (link.held.length > 0 && !this.behind) {
        const { deliver, size } = link.held.shift();
        link.heldBytes -= size;
        this.handleDeliver(link, deliver, now2);
        if (this.currentLink(link.id) !== link)
          return;
      }
      if (link.paused && link.heldBytes <= MAX_HELD_BYTES / 2) {
        link.paused = false;
        this.log("reading again");
        this.output({ kind: "resume_link", linkId: link.id });
      }
    }
    // ----- sending and acknowledging -----
    /** Sends what may go out now, if a session is open (see sending.ts). */
    pump(now2) {
      this.lastNow = now2;
      const p = this.phase;
      let channel;
      if (p.name === "linked" && p.link.stage === "open" && p.link.terms && p.link.bucket) {
        const link = p.link;
        channel = {
          limits: p.link.terms.limits,
          bucket: p.link.bucket,
          write: (send) => this.transmit(link, { case: "send", value: send }, now2)
        };
      }
      this.sending.pump(now2, channel);
    }
    scheduleAck(now2) {
      const p = this.phase;
      if (p.name !== "linked" || !p.link.terms || p.link.ackAt !== void 0)
        return;
      if (this.inbox.ackDue() !== void 0)
        p.link.ackAt = now2 + ACK_DELAY_MS;
    }
    sendAck(link, now2) {
      const upTo = this.inbox.ackDue();
      if (upTo === void 0)
        return;
      this.inbox.acked(upTo);
      this.transmit(link, { case: "deliverAck", value: { upToSeq: upTo } }, now2);
    }
    // ----- plumbing -----
    transmit(link, body, now2) {
      const payload = encodeFrame(body);
      const bytes = this.config.framing === "tcp" ? lengthPrefixed(payload) : payload;
      link.lastSentAt = now2;
      this.output({ kind: "transmit", linkId: link.id, bytes });
    }
    settle(handle, ack, error) {
      this.output(ack ? { kind: "send_done", handle, ack } : { kind: "send_done", handle, ...error ? { error } : {} });
    }
    event(event) {
      this.output({ kind: "event", event });
    }
    output(output) {
      if (output.kind === "event")
        this.waiting++;
      this.outputs.push(output);
    }
    log(line) {
      this.config.log(line);
    }
  };
  function targetOf(deliver) {
    const kind = deliver.to?.kind;
    if (kind?.case === "groupId")
      return { groupId: kind.value };
    if (kind?.case === "everyone")
      return { everyone: true };
    if (kind?.case === "userId")
      return { userId: kind.value };
    return { userId: "" };
  }

  // ../../sdk-bindings/typescript/dist/route.js
  var ROUTE_CALL_TIMEOUT_MS = 15e3;
  var fetchHttpClient = async (request) => {
    const init = {
      method: request.method,
      headers: request.headers,
      signal: AbortSignal.timeout(ROUTE_CALL_TIMEOUT_MS)
    };
    if (request.body !== void 0)
      init.body = request.body;
    const response = await fetch(request.url, init);
    return { status: response.status, retryAfter: response.headers.get("retry-after"), text: await response.text() };
  };
  var RouteClient = class {
    constructor(baseUrl, http = fetchHttpClient) {
      __publicField(this, "http");
      __publicField(this, "baseUrl");
      this.http = http;
      let url;
      try {
        url = new URL(baseUrl);
      } catch {
        throw new InvalidInputError(`not a route URL: ${JSON.stringify(baseUrl)} (expected e.g. http://127.0.0.1:8083)`);
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new InvalidInputError(`a route URL is http:// or https://, not ${url.protocol}//`);
      }
      this.baseUrl = baseUrl.replace(/\/+$/, "");
    }
    /** Creates a built-in account; returns its user id. */
    async register(userName, password) {
      const answer = await this.call("POST", "/v1/register", void 0, { user_name: userName, password });
      return str(answer.user_id);
    }
    /** Logs in for `deviceId`, asking for a server that offers `transport` (CIM-14.2-11). */
    async login(credentials, deviceId, transport) {
      const transports = transport === "tcp" ? ["tcp", "tcp_tls"] : ["websocket", "websocket_tls"];
      const body = "jwt" in credentials ? { jwt: credentials.jwt, device_id: deviceId, transports } : { user_name: credentials.userName, password: credentials.password, device_id: deviceId, transports };
      const answer = await this.call("POST", "/v1/login", void 0, body);
      const server = obj(answer.server);
      return {
        userId: str(answer.user_id),
        userName: str(answer.user_name),
        token: str(answer.token),
        tokenExpiresAtMs: num(answer.token_expires_at_ms),
        server: {
          serverId: str(server.server_id),
          tcpEndpoint: str(server.tcp_endpoint),
          wsUrl: str(server.ws_url),
          tcpTls: server.tcp_tls === true,
          draining: server.draining === true
        }
      };
    }
    async logout(token, allDevices) {
      await this.call("POST", "/v1/logout", token, { all_devices: allDevices });
    }
    /** One page of online users. `pageToken` is the previous page's, passed unchanged (CIM-14.7-5). */
    async onlineUsers(token, pageToken = "", pageSize = 0) {
      const query = `page_token=${encodeURIComponent(pageToken)}` + (pageSize > 0 ? `&page_size=${pageSize}` : "");
      const answer = await this.call("GET", `/v1/online?${query}`, token);
      return {
        users: users(answer.users),
        nextPageToken: str(answer.next_page_token),
        totalOnline: num(answer.total_online)
      };
    }
    /** Every online user, following the pages until an empty token ends them (CIM-14.7-6). */
    async allOnlineUsers(token, pageSize = 0) {
      const all = [];
      let pageToken = "";
      do {
        const page = await this.onlineUsers(token, pageToken, pageSize);
        all.push(...page.users);
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      return all;
    }
    async usersByPrefix(token, prefix, limit = 0) {
      const query = `prefix=${encodeURIComponent(prefix)}` + (limit > 0 ? `&limit=${limit}` : "");
      return users((await this.call("GET", `/v1/users?${query}`, token)).users);
    }
    async usersByName(token, userName) {
      return users((await this.call("GET", `/v1/users/by-name/${encodeURIComponent(userName)}`, token)).users);
    }
    /** The id of the one user named `userName` (CIM-14.4-41); never chosen among several
     * (CIM-14.4-42). */
    async userIdOf(token, userName) {
      const found = await this.usersByName(token, userName);
      if (found.length === 0)
        throw errorForCode(ErrorCode.NOT_FOUND, `no user is named ${JSON.stringify(userName)}`);
      if (found.length > 1) {
        const ids = found.map((u) => JSON.stringify(u.userId)).join(", ");
        throw new InvalidInputError(`${found.length} users are named ${JSON.stringify(userName)} (${ids}): choose one by id`);
      }
      return found[0].userId;
    }
    async createGroup(token, groupId, memberUserIds = []) {
      return group((await this.call("POST", "/v1/groups", token, { group_id: groupId, member_user_ids: memberUserIds })).group);
    }
    async joinGroup(token, groupId) {
      return group((await this.call("POST", `/v1/groups/${encodeURIComponent(groupId)}/join`, token, {})).group);
    }
    async leaveGroup(token, groupId) {
      return group((await this.call("POST", `/v1/groups/${encodeURIComponent(groupId)}/leave`, token, {})).group);
    }
    async groupMembers(token, groupId) {
      return users((await this.call("GET", `/v1/groups/${encodeURIComponent(groupId)}/members`, token)).members);
    }
    async myGroups(token) {
      const answer = await this.call("GET", "/v1/groups", token);
      return Array.isArray(answer.groups) ? answer.groups.map(group) : [];
    }
    async call(method, path, token, body) {
      const headers = { accept: "application/json" };
      if (token !== void 0)
        headers.authorization = `Bearer ${token}`;
      const request = { method, url: this.baseUrl + path, headers };
      if (body !== void 0) {
        headers["content-type"] = "application/json";
        request.body = JSON.stringify(body);
      }
      let response;
      try {
        response = await this.http(request);
      } catch (e) {
        throw new UnavailableError(`cannot reach the route at ${this.baseUrl}: ${describe(e)}`);
      }
      if (response.status >= 200 && response.status < 300) {
        if (response.text.trim() === "")
          return {};
        try {
          return obj(JSON.parse(response.text));
        } catch {
          throw new UnavailableError(`the route at ${this.baseUrl} answered ${path} with something that is not JSON`);
        }
      }
      throw refusal(response, `${method} ${path.split("?")[0]}`);
    }
  };
  function refusal(response, what) {
    let code;
    let message = "";
    try {
      const body = obj(JSON.parse(response.text));
      if (typeof body.code === "number" && body.code > 0)
        code = body.code;
      message = str(body.message);
    } catch {
    }
    code ?? (code = codeOfStatus(response.status));
    const retryAfterMs = retryAfterMsOf(response.retryAfter);
    const text = `${what} failed: ${errorName(code)} (${code})${message ? `: ${message}` : ` with HTTP ${response.status}`}`;
    return errorForCode(code, text, retryAfterMs);
  }
  function codeOfStatus(status) {
    switch (status) {
      case 400:
        return ErrorCode.INVALID_FIELD;
      case 401:
        return ErrorCode.UNAUTHENTICATED;
      case 403:
        return ErrorCode.FORBIDDEN;
      case 404:
        return ErrorCode.NOT_FOUND;
      case 409:
        return ErrorCode.ALREADY_EXISTS;
      case 413:
        return ErrorCode.BODY_TOO_LARGE;
      case 429:
        return ErrorCode.RATE_LIMITED;
      case 500:
        return ErrorCode.INTERNAL;
      case 503:
        return ErrorCode.UNAVAILABLE;
      default:
        return status >= 400 && status < 500 ? ErrorCode.INVALID_FIELD : ErrorCode.UNAVAILABLE;
    }
  }
  function retryAfterMsOf(header) {
    if (header === null || header.trim() === "")
      return void 0;
    const seconds = Number(header.trim());
    if (Number.isFinite(seconds) && seconds >= 0)
      return Math.ceil(seconds * 1e3);
    const date = Date.parse(header);
    return Number.isNaN(date) ? void 0 : Math.max(0, date - Date.now());
  }
  function obj(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : {};
  }
  function str(value) {
    return typeof value === "string" ? value : "";
  }
  function num(value) {
    return typeof value === "number" ? value : 0;
  }
  function users(value) {
    if (!Array.isArray(value))
      return [];
    return value.map((v) => {
      const u = obj(v);
      return { userId: str(u.user_id), userName: str(u.user_name), online: u.online === true };
    });
  }
  function group(value) {
    const g = obj(value);
    return { groupId: str(g.group_id), memberCount: num(g.member_count) };
  }
  function describe(e) {
    const error = e;
    const cause = error?.cause?.code ?? error?.cause?.message;
    return cause ? `${error.message} (${cause})` : String(error?.message ?? e);
  }

  // ../../sdk-bindings/typescript/dist/transport/endpoints.js
  function websocketUrlOf(server) {
    if (!/^wss?:\/\//i.test(server.wsUrl)) {
      throw new InvalidInputError(`server ${server.serverId} offers no WebSocket URL (got ${JSON.stringify(server.wsUrl)}); use the tcp transport`);
    }
    return server.wsUrl;
  }

  // ../../sdk-bindings/typescript/dist/transport/websocket-browser.js
  var globalWebSocketConnector = (server, options, callbacks) => {
    if (options.trustPem) {
      throw new InvalidInputError("a browser WebSocket trusts what the browser trusts: trustPem works in Node only");
    }
    const WebSocketClass = globalThis.WebSocket;
    if (!WebSocketClass)
      throw new InvalidInputError("this platform has no WebSocket; in Node import cim-sdk/node");
    const socket = new WebSocketClass(websocketUrlOf(server));
    socket.binaryType = "arraybuffer";
    let closed = false;
    socket.onopen = () => callbacks.onOpen();
    socket.onmessage = (e) => {
      callbacks.onData(typeof e.data === "string" ? e.data : new Uint8Array(e.data));
    };
    socket.onclose = (e) => {
      if (closed)
        return;
      closed = true;
      callbacks.onClose(`WebSocket closed (${e.code}${e.reason ? ` ${e.reason}` : ""})`);
    };
    return {
      send: (bytes) => {
        if (socket.readyState === WebSocketClass.OPEN)
          socket.send(bytes);
      },
      close: () => socket.close(1e3)
    };
  };

  // ../../sdk-bindings/typescript/dist/platform.js
  var browserPlatform = {
    name: "browser",
    defaultTransport: "websocket",
    connectors: { websocket: globalWebSocketConnector },
    http: () => fetchHttpClient,
    defaultDeviceId: browserDeviceId
  };
  function browserDeviceId() {
    const key = "cim-sdk.device-id";
    const storage = globalThis.localStorage;
    try {
      const kept = storage?.getItem(key);
      if (kept)
        return kept;
    } catch {
    }
    const bytes = new Uint8Array(8);
    globalThis.crypto.getRandomValues(bytes);
    const id = "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    try {
      storage?.setItem(key, id);
    } catch {
    }
    return id;
  }

  // ../../sdk-bindings/typescript/dist/validate.js
  var utf8 = new TextEncoder();
  function byteLength(text) {
    return utf8.encode(text).length;
  }
  function validateLoginOptions(options, platform) {
    if (typeof options !== "object" || options === null) {
      throw new InvalidInputError("login options are an object: { userName, password } or { jwt }");
    }
    let credentials;
    if (options.jwt !== void 0) {
      if (options.userName !== void 0 || options.password !== void 0) {
        throw new InvalidInputError("give either jwt or userName and password, not both");
      }
      credentials = { jwt: options.jwt };
    } else {
      if (typeof options.userName !== "string" || options.userName === "") {
        throw new InvalidInputError("userName is a non-empty string (or give jwt)");
      }
      if (typeof options.password !== "string")
        throw new InvalidInputError("password is a string");
      credentials = { userName: options.userName, password: options.password };
    }
    if (options.transport !== void 0 && options.transport !== "tcp" && options.transport !== "websocket") {
      throw new InvalidInputError(`transport is "tcp" or "websocket", not ${JSON.stringify(options.transport)}`);
    }
    const deviceId = options.deviceId ?? platform.defaultDeviceId();
    const length = typeof deviceId === "string" ? byteLength(deviceId) : 0;
    if (length < 1 || length > 128)
      throw new InvalidInputError("deviceId is a string of 1 to 128 bytes (CIM-4.3-1)");
    return { credentials, deviceId };
  }
  function validateTarget(to) {
    if (typeof to !== "object" || to === null) {
      throw new InvalidInputError("a recipient is { userId }, { groupId } or { everyone: true }");
    }
    const keys = ["userId", "groupId", "everyone"].filter((k) => k in to);
    if (keys.length !== 1)
      throw new InvalidInputError("give exactly one of userId, groupId or everyone");
    if ("everyone" in to) {
      if (to.everyone !== true)
        throw new InvalidInputError("everyone is true");
      return;
    }
    const id = "userId" in to ? to.userId : to.groupId;
    const length = typeof id === "string" ? byteLength(id) : 0;
    if (length < 1 || length > 128) {
      throw new InvalidInputError(`${keys[0]} is an id of 1 to 128 bytes, got ${JSON.stringify(id)}`);
    }
  }
  function bytesOf(body) {
    if (typeof body === "string")
      return utf8.encode(body);
    if (body instanceof Uint8Array)
      return body;
    throw new InvalidInputError("a body is a string or a Uint8Array");
  }
  function newClientMsgId() {
    const bytes = new Uint8Array(16);
    globalThis.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ../../sdk-bindings/typescript/dist/client.js
  var SDK_VERSION = "0.1.0";
  var now = () => performance.now();
  var Client = class {
    constructor(platform, route, credentials, options, login) {
      __publicField(this, "platform");
      __publicField(this, "route");
      __publicField(this, "credentials");
      __publicField(this, "options");
      __publicField(this, "core");
      __publicField(this, "links", /* @__PURE__ */ new Map());
      __publicField(this, "queue", []);
      __publicField(this, "readers", []);
      __publicField(this, "sends", /* @__PURE__ */ new Map());
      __publicField(this, "nextHandle", 1);
      __publicField(this, "timer");
      __publicField(this, "driving", false);
      __publicField(this, "ended", false);
      /** The token for route calls: the newest one any login gave (never logged). */
      __publicField(this, "lastToken");
      /** A login at the route in progress, shared by everyone who needs one. */
      __publicField(this, "loggingIn");
      __publicField(this, "firstSession");
      this.platform = platform;
      this.route = route;
      this.credentials = credentials;
      this.options = options;
      this.lastToken = login.token;
      this.core = new ClientCore({
        deviceId: options.deviceId,
        framing: options.transport === "tcp" ? "tcp" : "websocket",
        clientName: `cim-sdk-typescript/${SDK_VERSION} (${platform.name})`,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 0,
        resume: options.resume,
        random: Math.random,
        log: options.logger ?? (() => {
        })
      }, login, now());
    }
    /**
     * Logs in at the route at `routeUrl`, connects to the server it assigns and waits for the
     * first session. Rejects with an {@link AuthenticationError} for wrong credentials and an
     * {@link UnavailableError} when the route or server cannot be reached in time.
     */
    static async login(routeUrl2, options) {
      const platform = this.platform;
      const transport = options.transport ?? platform.defaultTransport;
      const { credentials, deviceId } = validateLoginOptions(options, platform);
      if (!platform.connectors[transport]) {
        throw new InvalidInputError(`the ${transport} transport is not available in ${platform.name}` + (platform.name === "browser" ? " (TCP needs Node: import cim-sdk/node)" : ""));
      }
      const route = new RouteClient(routeUrl2, platform.http(options.trustPem));
      options.signal?.throwIfAborted();
      const login = await route.login(credentials, deviceId, transport);
      if (options.signal?.aborted)
        throw new ClosedError("the login was aborted");
      if (transport === "tcp" ? !login.server.tcpEndpoint : !login.server.wsUrl) {
        throw new UnavailableError(`the route assigned server ${login.server.serverId}, which offers no ${transport} endpoint`);
      }
      const client = new this(platform, route, credentials, { ...options, deviceId, transport }, login);
      await client.waitForFirstSession(options.connectTimeoutMs ?? 3e4, options.signal);
      return client;
    }
    /** The logged-in user's id. */
    get userId() {
      return this.core.currentUserId;
    }
    /** Where this device is in its inbox: keep it to resume after a restart. */
    get resumePoint() {
      return this.core.resumePoint;
    }
    /** Whether the client has stopped for good. */
    get isClosed() {
      return this.core.closed;
    }
    /** How many events wait to be taken. At most about 1024: past that the client holds
     * messages back and then stops reading from its server until the application catches up. */
    get eventsWaiting() {
      return this.queue.length;
    }
    // ----- messages -----
    /** Sends a text message to one user (by id, not name); resolves once the server stored it. */
    sendToUser(userId, text) {
      return this.send({ userId }, text);
    }
    /** Sends a text message to every member of a group. */
    sendToGroup(groupId, text) {
      return this.send({ groupId }, text);
    }
    /** Sends a text message to everyone online: live only, never stored. */
    broadcast(text) {
      return this.send({ everyone: true }, text);
    }
    /**
     * Sends any body to `to`. Resolves with the server's acknowledgement; rejects with a
     * {@link CimError} carrying the registry code when the server refuses it, or a
     * {@link ClosedError} when the client closes first. A message sent while the connection is
     * down goes out after the reconnect, and messages go out in the order they were sent.
     */
    send(to, body, contentType = "text/plain") {
      try {
        validateTarget(to);
        if (typeof contentType !== "string" || new TextEncoder().encode(contentType).length > 255) {
          throw new InvalidInputError("contentType is a string of at most 255 bytes");
        }
        const bytes = bytesOf(body);
        const handle = this.nextHandle++;
        const settled = new Promise((resolve, reject) => this.sends.set(handle, { resolve, reject }));
        this.input((t) => this.core.submitSend(handle, newClientMsgId(), to, contentType, bytes, t));
        return settled;
      } catch (e) {
        return Promise.reject(e);
      }
    }
    // ----- events -----
    /** The next event, or `undefined` once the client is closed and every event was read. */
    nextEvent() {
      const queued = this.queued();
      if (queued)
        return Promise.resolve(queued.event);
      if (this.ended)
        return Promise.resolve(void 0);
      return new Promise((resolve) => this.readers.push(() => resolve(this.nextEvent())));
    }
    /** Takes the next queued event: its message is processed, and there is room for another. */
    queued() {
      const queued = this.queue.shift();
      if (queued)
        this.input((t) => this.core.handleTaken(queued.delivery, t));
      return queued;
    }
    /** The events in order, until the client is closed: `for await (const e of client.events())`. */
    async *events() {
      for (; ; ) {
        const event = await this.nextEvent();
        if (event === void 0)
          return;
        yield event;
      }
    }
    /** Closes the connection and stops reconnecting; unanswered sends reject with ClosedError. */
    async close() {
      this.input((t) => this.core.close("closed by the application", t));
    }
    // ----- route calls -----
    //
    // Each takes the newest token. One the route refuses as expired or unknown (a code whose
    // retry is Relogin: UNAUTHENTICATED, TOKEN_EXPIRED) is renewed by logging in again with the
    // credentials of `login`, for the same device, and the call is made once more (§14.6). The
    // session stays up meanwhile: a Login ends none (§14.2).
    /** Every user online now, following all pages (spec §14.7). */
    onlineUsers() {
      return this.withToken((token) => this.route.allOnlineUsers(token));
    }
    /** One page of online users; pass `nextPageToken` back unchanged for the next. */
    onlineUsersPage(pageToken = "", pageSize = 0) {
      return this.withToken((token) => this.route.onlineUsers(token, pageToken, pageSize));
    }
    /** The id of the one user named `userName`. Send to ids, never to names: rejects with code
     * NOT_FOUND when nobody has the name and with InvalidInputError when several share it. */
    userIdOf(userName) {
      return this.withToken((token) => this.route.userIdOf(token, userName));
    }
    /** Every user whose name is exactly `userName`. */
    usersByName(userName) {
      return this.withToken((token) => this.route.usersByName(token, userName));
    }
    /** Users whose name starts with `prefix` (at most `limit`, 20 by default). */
    usersByPrefix(prefix, limit = 0) {
      return this.withToken((token) => this.route.usersByPrefix(token, prefix, limit));
    }
    /** Creates a group with this user as its only member; others join it themselves. */
    createGroup(groupId) {
      return this.withToken((token) => this.route.createGroup(token, groupId));
    }
    /** Joins a group: its messages from now on reach this user. */
    joinGroup(groupId) {
      return this.withToken((token) => this.route.joinGroup(token, groupId));
    }
    leaveGroup(groupId) {
      return this.withToken((token) => this.route.leaveGroup(token, groupId));
    }
    groupMembers(groupId) {
      return this.withToken((token) => this.route.groupMembers(token, groupId));
    }
    /** The groups this user belongs to. */
    groups() {
      return this.withToken((token) => this.route.myGroups(token));
    }
    /** Ends this login (or every login of the user) at the route, then closes the client. */
    async logout(allDevices = false) {
      try {
        await this.withToken((token) => this.route.logout(token, allDevices));
      } finally {
        await this.close();
      }
    }
    /** Makes a route call with the newest token, and once more with a new one when the route
     * refused the token. */
    async withToken(call) {
      const token = this.lastToken;
      try {
        return await call(token);
      } catch (e) {
        if (!(e instanceof CimError) || e.code === void 0 || retryOf(e.code) !== "relogin" || this.core.closed)
          throw e;
        return call(await this.renewedToken(token, e.code));
      }
    }
    /** A token newer than `refused`: the one another call or a reconnect got meanwhile, or one
     * from a new login, which every call that needs it shares. */
    async renewedToken(refused, code) {
      if (this.lastToken !== refused)
        return this.lastToken;
      this.log(`the route refused the token (${errorName(code)}): logging in again`);
      const login = await this.freshLogin();
      this.input((t) => this.core.handleTokenRenewed(login, t));
      return login.token;
    }
    /** Logs in at the route for this device (CIM-5.2-3), or joins the login in progress. */
    freshLogin() {
      this.loggingIn ?? (this.loggingIn = this.route.login(this.credentials, this.options.deviceId, this.options.transport).then((login) => {
        this.lastToken = login.token;
        return login;
      }).finally(() => {
        this.loggingIn = void 0;
      }));
      return this.loggingIn;
    }
    log(line) {
      this.options.logger?.(line);
    }
    // ----- the loop -----
    /** Runs one input of the core, then carries out what it asks. */
    input(step) {
      step(now());
      this.drive();
    }
    drive() {
      if (this.driving)
        return;
      this.driving = true;
      try {
        for (let output = this.core.poll(); output; output = this.core.poll())
          this.perform(output);
      } finally {
        this.driving = false;
      }
      this.arm();
    }
    arm() {
      if (this.timer !== void 0)
        clearTimeout(this.timer);
      this.timer = void 0;
      const at = this.core.pollTimeout();
      if (at === void 0 || !Number.isFinite(at))
        return;
      this.timer = setTimeout(() => {
        this.timer = void 0;
        this.input((t) => this.core.handleTimeout(t));
      }, Math.max(0, Math.ceil(at - now())));
    }
    perform(output) {
      switch (output.kind) {
        case "login":
          return this.relogin();
        case "connect":
          return this.open(output.linkId, output.login);
        case "transmit":
          return this.links.get(output.linkId)?.send(output.bytes);
        case "close_link":
          this.links.get(output.linkId)?.close();
          this.links.delete(output.linkId);
          return;
        case "pause_link":
          return this.links.get(output.linkId)?.pause?.();
        case "resume_link":
          return this.links.get(output.linkId)?.resume?.();
        case "event":
          return this.deliver(output.delivery ? { event: output.event, delivery: output.delivery } : { event: output.event });
        case "send_done": {
          const waiter = this.sends.get(output.handle);
          this.sends.delete(output.handle);
          if (output.ack)
            waiter?.resolve(output.ack);
          else
            waiter?.reject(output.error ?? new ClosedError("the send was dropped"));
          return;
        }
      }
    }
    relogin() {
      this.freshLogin().then((login) => this.input((t) => this.core.handleLoginResult({ login }, t)), (e) => {
        const error = e instanceof CimError ? e : new UnavailableError(String(e));
        this.input((t) => this.core.handleLoginResult({ error }, t));
      });
    }
    open(linkId, login) {
      const connector = this.platform.connectors[this.options.transport];
      const linkOptions = this.options.trustPem ? { trustPem: this.options.trustPem } : {};
      try {
        const link = connector(login.server, linkOptions, {
          onOpen: () => this.input((t) => this.core.handleLinkOpened(linkId, t)),
          onData: (data) => this.input((t) => this.core.handleLinkData(linkId, data, t)),
          onClose: (why) => {
            this.links.delete(linkId);
            this.input((t) => this.core.handleLinkClosed(linkId, why, t));
          }
        });
        this.links.set(linkId, link);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        queueMicrotask(() => this.input((t) => this.core.handleLinkClosed(linkId, why, t)));
      }
    }
    deliver(queued) {
      const { event } = queued;
      if (event.type === "connected") {
        this.firstSession?.resolve();
        this.firstSession = void 0;
      }
      if (event.type === "closed") {
        this.ended = true;
        if (this.timer !== void 0)
          clearTimeout(this.timer);
        this.timer = void 0;
        const code = event.code;
        this.firstSession?.reject(code === void 0 ? new ClosedError(event.message) : errorForCode(code, event.message));
        this.firstSession = void 0;
      }
      this.queue.push(queued);
      for (const wake of this.readers.splice(0))
        wake();
    }
    waitForFirstSession(timeoutMs, signal) {
      return new Promise((resolve, reject) => {
        const giveUp = (error) => {
          this.firstSession = void 0;
          cleanup();
          void this.close();
          reject(error);
        };
        const timer = setTimeout(() => giveUp(new UnavailableError(`no session with the server within ${timeoutMs} ms`)), timeoutMs);
        const onAbort = () => giveUp(new ClosedError("the login was aborted"));
        signal?.addEventListener("abort", onAbort, { once: true });
        const cleanup = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        };
        this.firstSession = {
          resolve: () => {
            cleanup();
            resolve();
          },
          reject: (e) => {
            cleanup();
            reject(e);
          }
        };
        this.drive();
      });
    }
  };
  /** Overridden by the Node entry, which adds TCP and Node's WebSocket. */
  __publicField(Client, "platform", browserPlatform);
  async function registerWith(platform, routeUrl2, userName, password, trustPem) {
    if (typeof userName !== "string" || userName === "")
      throw new InvalidInputError("userName is a non-empty string");
    if (typeof password !== "string")
      throw new InvalidInputError("password is a string");
    return new RouteClient(routeUrl2, platform.http(trustPem)).register(userName, password);
  }

  // ../../sdk-bindings/typescript/dist/index.js
  function register(routeUrl2, userName, password) {
    return registerWith(browserPlatform, routeUrl2, userName, password);
  }

  // src/state.ts
  var KEPT_PER_CONVERSATION = 200;
  function keyOf(kind, id) {
    return kind === "everyone" ? "everyone" : `${kind}:${id}`;
  }
  var ChatState = class {
    constructor(me, storage, storageKey) {
      this.me = me;
      this.storage = storage;
      this.storageKey = storageKey;
      this.status = "connecting";
      this.statusDetail = "";
      /** Names of the users met so far, by id (user ids are not names). */
      this.names = /* @__PURE__ */ new Map();
      /** Online users other than me, by name. */
      this.online = [];
      /** My groups and their member counts. */
      this.groups = /* @__PURE__ */ new Map();
      this.conversations = /* @__PURE__ */ new Map();
      this.listeners = /* @__PURE__ */ new Set();
      this.sentIds = /* @__PURE__ */ new Set();
      this.nextLocal = 1;
      this.names.set(me.userId, me.userName);
      this.load();
    }
    subscribe(listener) {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    }
    emit(change) {
      for (const listener of this.listeners) listener(change);
    }
    setStatus(status, detail = "") {
      if (status === this.status && detail === this.statusDetail) return;
      this.status = status;
      this.statusDetail = detail;
      this.emit({ kind: "status" });
    }
    notice(text) {
      this.emit({ kind: "notice", text });
    }
    nameOf(userId) {
      return this.names.get(userId) ?? userId;
    }
    isOnline(userId) {
      return this.online.some((u) => u.userId === userId);
    }
    learnName(userId, userName) {
      if (userName === "" || this.names.get(userId) === userName) return;
      this.names.set(userId, userName);
      this.scheduleSave();
      this.emit({ kind: "sidebar" });
    }
    setOnline(users2) {
      const others = users2.filter((u) => u.userId !== this.me.userId).sort((a, b) => a.userName.localeCompare(b.userName));
      let changed = others.length !== this.online.length || others.some((u, i) => u.userId !== this.online[i]?.userId);
      for (const u of others) {
        if (u.userName !== "" && this.names.get(u.userId) !== u.userName) {
          this.names.set(u.userId, u.userName);
          changed = true;
        }
      }
      this.online = others;
      if (changed) {
        this.scheduleSave();
        this.emit({ kind: "sidebar" });
      }
    }
    setGroups(groups) {
      const before = JSON.stringify([...this.groups]);
      this.groups.clear();
      for (const g of groups) this.groups.set(g.groupId, g.memberCount);
      if (JSON.stringify([...this.groups]) !== before) this.emit({ kind: "sidebar" });
    }
    putGroup(group2) {
      this.groups.set(group2.groupId, group2.memberCount);
      this.emit({ kind: "sidebar" });
    }
    dropGroup(groupId) {
      this.groups.delete(groupId);
      this.emit({ kind: "sidebar" });
    }
    conversation(kind, id) {
      const key = keyOf(kind, id);
      let conversation = this.conversations.get(key);
      if (!conversation) {
        conversation = { key, kind, id, messages: [], unread: 0, lastAtMs: 0 };
        this.conversations.set(key, conversation);
      }
      return conversation;
    }
    open(kind, id) {
      const conversation = this.conversation(kind, id);
      conversation.unread = 0;
      this.active = conversation.key;
      this.emit({ kind: "active" });
      this.emit({ kind: "sidebar" });
    }
    get activeConversation() {
      return this.active === void 0 ? void 0 : this.conversations.get(this.active);
    }
    /** A message from the inbox; false when the page had it already. */
    addReceived(message) {
      if (this.sentIds.has(message.messageId)) return false;
      const to = message.to;
      const conversation = "groupId" in to ? this.conversation("group", to.groupId) : "userId" in to ? this.conversation("user", message.fromUserId === this.me.userId ? to.userId : message.fromUserId) : this.conversation("everyone", "");
      const entry = {
        localId: message.messageId,
        messageId: message.messageId,
        fromUserId: message.fromUserId,
        own: message.fromUserId === this.me.userId,
        text: message.text,
        atMs: message.sentAtMs,
        status: "received"
      };
      this.sentIds.add(message.messageId);
      this.push(conversation, entry, conversation.key !== this.active);
      this.save();
      return true;
    }
    /** A message this page is sending, shown at once. */
    addOwn(key, text) {
      const conversation = this.conversations.get(key);
      if (!conversation) throw new Error(`no conversation ${key}`);
      const entry = {
        localId: `local-${this.nextLocal++}`,
        fromUserId: this.me.userId,
        own: true,
        text,
        atMs: Date.now(),
        status: "sending"
      };
      this.push(conversation, entry, false);
      return entry;
    }
    sent(key, entry, ack) {
      entry.status = "sent";
      entry.messageId = ack.messageId;
      entry.atMs = ack.sentAtMs || entry.atMs;
      this.sentIds.add(ack.messageId);
      this.emit({ kind: "message", key, message: entry, added: false });
      this.scheduleSave();
    }
    failed(key, entry, why) {
      entry.status = "failed";
      entry.error = why;
      this.emit({ kind: "message", key, message: entry, added: false });
      this.scheduleSave();
    }
    push(conversation, entry, unread) {
      conversation.messages.push(entry);
      conversation.lastAtMs = Math.max(conversation.lastAtMs, entry.atMs);
      if (unread) conversation.unread += 1;
      this.emit({ kind: "message", key: conversation.key, message: entry, added: true });
      this.emit({ kind: "sidebar" });
    }
    // ----- storage -----
    load() {
      let stored;
      try {
        const text = this.storage?.getItem(this.storageKey);
        if (text) stored = JSON.parse(text);
      } catch {
        stored = void 0;
      }
      if (stored?.version !== 1) return;
      for (const [id, name] of stored.names) this.names.set(id, name);
      this.names.set(this.me.userId, this.me.userName);
      for (const c of stored.conversations) {
        const conversation = this.conversation(c.kind, c.id);
        for (const m of c.messages) {
          const entry = m.status === "sending" ? { ...m, status: "failed", error: "not confirmed before the page was closed" } : m;
          conversation.messages.push(entry);
          conversation.lastAtMs = Math.max(conversation.lastAtMs, entry.atMs);
          if (entry.messageId) this.sentIds.add(entry.messageId);
        }
      }
    }
    scheduleSave() {
      if (this.saveTimer !== void 0) return;
      this.saveTimer = setTimeout(() => this.save(), 500);
    }
    /** Writes the conversations to storage now. */
    save() {
      if (this.saveTimer !== void 0) clearTimeout(this.saveTimer);
      this.saveTimer = void 0;
      if (!this.storage) return;
      const stored = {
        version: 1,
        names: [...this.names],
        conversations: [...this.conversations.values()].filter((c) => c.messages.length > 0).map((c) => ({ kind: c.kind, id: c.id, messages: c.messages.slice(-KEPT_PER_CONVERSATION) }))
      };
      try {
        this.storage.setItem(this.storageKey, JSON.stringify(stored));
      } catch {
      }
    }
  };

  // src/format.ts
  function shortTime(at, now2 = /* @__PURE__ */ new Date()) {
    const time = at.toLocaleTimeString(void 0, { hour: "2-digit", minute: "2-digit" });
    if (at.toDateString() === now2.toDateString()) return time;
    return `${at.toLocaleDateString(void 0, { day: "numeric", month: "short" })} ${time}`;
  }
  function fullTime(at) {
    return at.toLocaleString();
  }
  function describeError(e) {
    if (e instanceof CimError) {
      const text = { message: e.message };
      if (e.codeName !== void 0) text.code = e.codeName;
      return text;
    }
    if (e instanceof Error) return { message: e.message };
    return { message: String(e) };
  }

  // src/session.ts
  var REFRESH_MS = 3e3;
  var ChatSession = class _ChatSession {
    constructor(routeUrl2, client, state, hooks, resumeKey) {
      this.routeUrl = routeUrl2;
      this.client = client;
      this.state = state;
      this.hooks = hooks;
      this.resumeKey = resumeKey;
      this.loggingOut = false;
      this.connected = true;
      this.refreshFailing = false;
    }
    /** Registers first when asked, logs in, and starts the event loop and the refresh. */
    static async start(routeUrl2, userName, password, registerFirst, hooks) {
      if (registerFirst) await register(routeUrl2, userName, password);
      const storage = storageOf();
      const resumeKey = `cim-chat.resume:${routeUrl2}:${userName}`;
      const resume = readResume(storage, resumeKey);
      let client;
      try {
        client = await Client.login(routeUrl2, resume ? { userName, password, resume: resume.point } : { userName, password });
      } catch (e) {
        if (!resume || !(e instanceof CimError) || e.code !== ErrorCode.INVALID_FIELD) throw e;
        storage?.removeItem(resumeKey);
        client = await Client.login(routeUrl2, { userName, password });
      }
      if (resume && resume.userId !== client.userId) {
        storage?.removeItem(resumeKey);
      }
      const state = new ChatState({ userId: client.userId, userName }, storage, `cim-chat.history:${routeUrl2}:${client.userId}`);
      const session = new _ChatSession(routeUrl2, client, state, hooks, resumeKey);
      state.setStatus("connected");
      void session.loop();
      session.refreshTimer = setInterval(() => void session.refresh(), REFRESH_MS);
      void session.refresh();
      return session;
    }
    /** Reads the events until the client closes. */
    async loop() {
      try {
        for await (const event of this.client.events()) this.handle(event);
      } catch (e) {
        this.hooks.onError(e);
      }
    }
    handle(event) {
      const state = this.state;
      switch (event.type) {
        case "connected":
          this.connected = true;
          state.setStatus("connected");
          void this.refresh();
          return;
        case "disconnected":
          this.connected = false;
          this.showDisconnected(`${event.message}; trying again in ${Math.ceil(event.retryInMs / 1e3)} s`);
          return;
        case "messages_lost":
          state.notice(event.reason === "gap" ? "Some messages were lost: the server no longer had them." : "Your inbox was reset on the server: earlier messages may be missing.");
          return;
        case "message":
          state.addReceived(event);
          this.saveResume();
          return;
        case "closed":
          if (this.refreshTimer !== void 0) clearInterval(this.refreshTimer);
          state.setStatus("offline", event.message);
          state.save();
          this.hooks.onEnded({ byUser: this.loggingOut, message: event.message, code: event.code });
          return;
      }
    }
    saveResume() {
      const point = this.client.resumePoint;
      if (!point) return;
      const stored = { userId: this.client.userId, epoch: point.epoch.toString(), lastAckedSeq: point.lastAckedSeq.toString() };
      try {
        storageOf()?.setItem(this.resumeKey, JSON.stringify(stored));
      } catch {
      }
    }
    /** "offline" while the browser says it has no network, else "reconnecting". */
    showDisconnected(detail) {
      const offline = typeof navigator !== "undefined" && navigator.onLine === false;
      this.state.setStatus(offline ? "offline" : "reconnecting", detail);
    }
    /** The browser's network came or went (its `online` and `offline` events). */
    networkChanged() {
      if (!this.connected && !this.client.isClosed) this.showDisconnected(this.state.statusDetail);
    }
    /** Reads who is online and my groups again; a failure is shown once until one succeeds. */
    async refresh() {
      if (this.client.isClosed) return;
      try {
        const [online, groups] = await Promise.all([this.client.onlineUsers(), this.client.groups()]);
        this.state.setOnline(online);
        this.state.setGroups(groups);
        this.refreshFailing = false;
      } catch (e) {
        if (!this.client.isClosed && !this.refreshFailing) this.hooks.onError(e);
        this.refreshFailing = true;
      }
    }
    /** Sends `text` to the conversation `key`; the message shows at once and its fate after. */
    send(conversation, text) {
      const state = this.state;
      const entry = state.addOwn(conversation.key, text);
      const sending = conversation.kind === "user" ? this.client.sendToUser(conversation.id, text) : conversation.kind === "group" ? this.client.sendToGroup(conversation.id, text) : this.client.broadcast(text);
      sending.then(
        (ack) => state.sent(conversation.key, entry, ack),
        (e) => {
          const why = describeError(e);
          state.failed(conversation.key, entry, why.code ? `${why.message} [${why.code}]` : why.message);
          this.hooks.onError(e);
        }
      );
    }
    /** Opens the conversation with the user named `userName`. */
    async openUserByName(userName) {
      const userId = await this.client.userIdOf(userName);
      this.state.learnName(userId, userName);
      this.state.open("user", userId);
    }
    async createGroup(groupId) {
      const group2 = await this.client.createGroup(groupId);
      this.state.putGroup(group2);
      this.state.open("group", group2.groupId);
    }
    async joinGroup(groupId) {
      const group2 = await this.client.joinGroup(groupId);
      this.state.putGroup(group2);
      this.state.open("group", group2.groupId);
    }
    async leaveGroup(groupId) {
      await this.client.leaveGroup(groupId);
      this.state.dropGroup(groupId);
    }
    /** The names of a group's members. */
    async membersOf(groupId) {
      const members2 = await this.client.groupMembers(groupId);
      for (const m of members2) this.state.learnName(m.userId, m.userName);
      return members2.map((m) => m.userName || m.userId);
    }
    /** Ends the login at the route and closes; the page goes back to the login form. */
    async logout() {
      this.loggingOut = true;
      if (this.refreshTimer !== void 0) clearInterval(this.refreshTimer);
      this.state.save();
      await this.client.logout();
    }
    /** Closes without logging out (the page is going away). */
    close() {
      this.loggingOut = true;
      if (this.refreshTimer !== void 0) clearInterval(this.refreshTimer);
      this.state.save();
      void this.client.close();
    }
  };
  function storageOf() {
    try {
      return globalThis.localStorage ?? void 0;
    } catch {
      return void 0;
    }
  }
  function readResume(storage, key) {
    try {
      const text = storage?.getItem(key);
      if (!text) return void 0;
      const stored = JSON.parse(text);
      return { userId: stored.userId, point: { epoch: BigInt(stored.epoch), lastAckedSeq: BigInt(stored.lastAckedSeq) } };
    } catch {
      return void 0;
    }
  }

  // src/ui/dom.ts
  function h(tag, attrs = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === void 0 || value === false) continue;
      element.setAttribute(name, value === true ? "" : String(value));
    }
    append(element, ...children);
    return element;
  }
  function append(parent, ...children) {
    for (const child of children) {
      if (child === null || child === void 0 || child === false) continue;
      parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }
  function byId(id) {
    const element = document.getElementById(id);
    if (!element) throw new Error(`the page has no #${id}`);
    return element;
  }
  function replaceChildren(parent, children) {
    const focused = document.activeElement instanceof HTMLElement && parent.contains(document.activeElement) ? document.activeElement.closest("[data-key]")?.dataset.key : void 0;
    parent.replaceChildren(...children);
    if (focused !== void 0) {
      for (const element of parent.querySelectorAll("[data-key]")) {
        if (element.dataset.key === focused) {
          element.focus();
          break;
        }
      }
    }
  }

  // src/ui/notices.ts
  var KEPT = 4;
  var ERROR_MS = 12e3;
  var INFO_MS = 6e3;
  function showError(e) {
    const { message, code } = describeError(e);
    show("error", message, code);
  }
  function showProblem(message, code) {
    show("error", message, code);
  }
  function showInfo(message) {
    show("info", message, void 0);
  }
  function show(kind, message, code) {
    const area = byId("notices");
    const close = h("button", { type: "button", class: "notice-close", "aria-label": "Dismiss" }, "×");
    const notice = h(
      "div",
      { class: `notice ${kind}`, "data-testid": kind === "error" ? "error" : "info", "data-code": code },
      h(
        "div",
        { class: "notice-body" },
        h("span", { class: "notice-text" }, message),
        code ? h("span", { class: "notice-code", "data-testid": "error-code" }, code) : null
      ),
      close
    );
    close.addEventListener("click", () => notice.remove());
    area.appendChild(notice);
    while (area.children.length > KEPT) area.firstElementChild?.remove();
    setTimeout(() => notice.remove(), kind === "error" ? ERROR_MS : INFO_MS);
  }
  function clearNotices() {
    byId("notices").replaceChildren();
  }

  // src/ui/conversation.ts
  var ConversationView = class {
    constructor(session) {
      this.session = session;
      this.title = byId("conversation-title");
      this.subtitle = byId("conversation-subtitle");
      this.leave = byId("leave-group");
      this.empty = byId("conversation-empty");
      this.list = byId("messages");
      this.form = byId("send-form");
      this.input = byId("message-input");
      this.sendButton = byId("send-button");
      this.nodes = /* @__PURE__ */ new Map();
      this.shown = void 0;
      this.render();
    }
    /** Wires the send box and the leave button once for the page. */
    static wire(current) {
      const form = byId("send-form");
      const input = byId("message-input");
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        current()?.submit();
      });
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          current()?.submit();
        }
      });
      byId("leave-group").addEventListener("click", () => current()?.leaveGroup());
    }
    submit() {
      const conversation = this.session.state.activeConversation;
      const text = this.input.value;
      if (!conversation || text.trim() === "") return;
      this.input.value = "";
      this.session.send(conversation, text);
    }
    leaveGroup() {
      const conversation = this.session.state.activeConversation;
      if (conversation?.kind !== "group") return;
      this.session.leaveGroup(conversation.id).then(() => this.render(), showError);
    }
    /** Shows the active conversation afresh. */
    render() {
      const state = this.session.state;
      const conversation = state.activeConversation;
      this.shown = conversation?.key;
      this.nodes.clear();
      this.list.replaceChildren();
      const none = conversation === void 0;
      this.empty.hidden = !none;
      this.list.hidden = none;
      this.form.hidden = none;
      this.input.disabled = none;
      this.sendButton.disabled = none;
      this.leave.hidden = conversation?.kind !== "group" || !state.groups.has(conversation.id);
      if (!conversation) {
        this.title.textContent = "No conversation";
        this.subtitle.textContent = "";
        return;
      }
      this.renderHeader(conversation);
      for (const message of conversation.messages) this.list.appendChild(this.node(message));
      this.list.scrollTop = this.list.scrollHeight;
      this.input.focus();
      if (conversation.kind === "group" && state.groups.has(conversation.id)) {
        this.session.membersOf(conversation.id).then((names) => {
          if (this.shown === conversation.key) this.subtitle.textContent = `${members(names.length)}: ${names.join(", ")}`;
        }, () => {
        });
      }
    }
    /** Updates the header (presence, member count) without touching the messages. */
    renderHeader(conversation = this.session.state.activeConversation) {
      if (!conversation || conversation.key !== this.shown) return;
      const state = this.session.state;
      this.title.dataset.kind = conversation.kind;
      if (conversation.kind === "user") {
        this.title.textContent = state.nameOf(conversation.id);
        this.subtitle.textContent = state.isOnline(conversation.id) ? "online" : "offline — messages wait in the inbox";
      } else if (conversation.kind === "group") {
        this.title.textContent = `# ${conversation.id}`;
        const count = state.groups.get(conversation.id);
        if (count === void 0) this.subtitle.textContent = "you are not a member";
        else if (!this.subtitle.textContent?.includes(":")) this.subtitle.textContent = members(count);
      } else {
        this.title.textContent = "Everyone";
        this.subtitle.textContent = "broadcasts reach the users online now and are not kept";
      }
      this.leave.hidden = conversation.kind !== "group" || !state.groups.has(conversation.id);
    }
    /** A message was added to, or changed in, conversation `key`. */
    update(key, message, added) {
      if (key !== this.shown) return;
      const existing = this.nodes.get(message.localId);
      if (existing && !added) {
        existing.replaceWith(this.node(message));
        return;
      }
      const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
      this.list.appendChild(this.node(message));
      if (atBottom || message.own) this.list.scrollTop = this.list.scrollHeight;
    }
    node(message) {
      const state = this.session.state;
      const at = new Date(message.atMs);
      const sender = message.own ? "You" : state.nameOf(message.fromUserId);
      const item = h(
        "li",
        {
          class: `message ${message.own ? "own" : "theirs"} ${message.status}`,
          "data-testid": "message",
          "data-own": message.own,
          "data-status": message.status,
          "data-from": message.fromUserId,
          "data-message-id": message.messageId
        },
        h(
          "div",
          { class: "meta" },
          h("span", { class: "sender", "data-testid": "sender" }, sender),
          h("time", { class: "time", datetime: at.toISOString(), title: fullTime(at) }, shortTime(at)),
          message.status === "sending" ? h("span", { class: "state" }, "sending…") : null,
          message.status === "failed" ? h("span", { class: "state failed", title: message.error }, "not sent") : null
        ),
        h("div", { class: "text", "data-testid": "message-text" }, message.text)
      );
      this.nodes.set(message.localId, item);
      return item;
    }
  };
  function members(count) {
    return count === 1 ? "1 member" : `${count} members`;
  }

  // src/ui/login.ts
  var LoginView = class {
    constructor(routeUrl2, onSubmit) {
      this.view = byId("login-view");
      this.form = byId("login-form");
      this.name = byId("login-name");
      this.password = byId("login-password");
      this.buttons = [byId("login-button"), byId("register-button")];
      this.progress = byId("login-progress");
      byId("route-url").textContent = routeUrl2;
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        const register2 = event.submitter?.id === "register-button";
        const request = { userName: this.name.value.trim(), password: this.password.value, register: register2 };
        this.busy(register2 ? "Registering…" : "Logging in…");
        onSubmit(request).finally(() => this.busy(""));
      });
    }
    busy(text) {
      for (const button of this.buttons) button.disabled = text !== "";
      this.progress.textContent = text;
    }
    show(userName = "") {
      this.view.hidden = false;
      if (userName) this.name.value = userName;
      this.password.value = "";
      (userName ? this.password : this.name).focus();
    }
    hide() {
      this.view.hidden = true;
      this.password.value = "";
    }
  };

  // src/ui/sidebar.ts
  var STATUS_TEXT = {
    connecting: "connecting…",
    connected: "connected",
    reconnecting: "reconnecting…",
    offline: "offline"
  };
  var Sidebar = class {
    constructor(session) {
      this.session = session;
      this.people = byId("people");
      this.groups = byId("groups");
      this.status = byId("connection-status");
      this.lastPeople = "";
      this.lastGroups = "";
      byId("me-name").textContent = session.state.me.userName;
      this.lastPeople = this.lastGroups = "";
      this.renderStatus();
      this.render();
    }
    /** Wires the forms once for the page; they act on whatever session is current. */
    static wireForms(current) {
      const chatForm = byId("chat-with-form");
      const chatName = byId("chat-with-name");
      chatForm.addEventListener("submit", (event) => {
        event.preventDefault();
        const session = current();
        const name = chatName.value.trim();
        if (!session || name === "") return;
        session.openUserByName(name).then(() => {
          chatName.value = "";
        }, showError);
      });
      const groupForm = byId("group-form");
      const groupId = byId("group-id");
      groupForm.addEventListener("submit", (event) => {
        event.preventDefault();
        const session = current();
        const id = groupId.value.trim();
        if (!session || id === "") return;
        const create2 = event.submitter?.id === "group-create";
        (create2 ? session.createGroup(id) : session.joinGroup(id)).then(() => {
          groupId.value = "";
        }, showError);
      });
    }
    renderStatus() {
      const { status, statusDetail } = this.session.state;
      this.status.dataset.status = status;
      this.status.textContent = STATUS_TEXT[status];
      this.status.title = statusDetail;
    }
    render() {
      const state = this.session.state;
      const entries = /* @__PURE__ */ new Map();
      for (const u of state.online) {
        entries.set(u.userId, { name: u.userName, online: true, conversation: state.conversations.get(keyOf("user", u.userId)) });
      }
      const talked = [...state.conversations.values()].filter((c) => c.kind === "user" && !entries.has(c.id) && (c.messages.length > 0 || c.key === state.active)).sort((a, b) => b.lastAtMs - a.lastAtMs);
      for (const c of talked) entries.set(c.id, { name: state.nameOf(c.id), online: false, conversation: c });
      const people = [...entries].map(([userId, e]) => ({ userId, ...e, unread: e.conversation?.unread ?? 0, active: state.active === keyOf("user", userId) }));
      const peopleSignature = JSON.stringify(people.map((p) => [p.userId, p.name, p.online, p.unread, p.active]));
      if (peopleSignature !== this.lastPeople) {
        this.lastPeople = peopleSignature;
        replaceChildren(this.people, people.length === 0 ? [h("li", { class: "empty" }, "Nobody else is online.")] : people.map((p) => h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "entry peer",
              "data-testid": "peer",
              "data-key": keyOf("user", p.userId),
              "data-user-id": p.userId,
              "data-user-name": p.name,
              "data-online": p.online,
              "aria-current": p.active ? "true" : void 0
            },
            h("span", { class: `presence ${p.online ? "online" : "offline"}`, role: "img", "aria-label": p.online ? "online" : "offline" }),
            h("span", { class: "entry-name" }, state.names.has(p.userId) ? p.name : `user ${p.userId}`),
            unreadBadge(p.unread)
          )
        )));
        for (const button of this.people.querySelectorAll("button.peer")) {
          button.addEventListener("click", () => state.open("user", button.dataset.userId ?? ""));
        }
      }
      const groupIds = new Set(state.groups.keys());
      for (const c of state.conversations.values()) if (c.kind === "group" && c.messages.length > 0) groupIds.add(c.id);
      const groups = [...groupIds].sort().map((id) => {
        const c = state.conversations.get(keyOf("group", id));
        return { id, members: state.groups.get(id), unread: c?.unread ?? 0, active: state.active === keyOf("group", id) };
      });
      const everyone = state.conversations.get("everyone");
      const groupsSignature = JSON.stringify([groups, everyone?.unread, everyone?.key === state.active, everyone !== void 0]);
      if (groupsSignature !== this.lastGroups) {
        this.lastGroups = groupsSignature;
        const items = groups.map((g) => h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "entry group",
              "data-testid": "group",
              "data-key": keyOf("group", g.id),
              "data-group-id": g.id,
              "aria-current": g.active ? "true" : void 0
            },
            h("span", { class: "entry-hash", "aria-hidden": "true" }, "#"),
            h("span", { class: "entry-name" }, g.id),
            g.members === void 0 ? h("span", { class: "entry-meta" }, "left") : h("span", { class: "entry-meta", "aria-label": `${g.members} members` }, String(g.members)),
            unreadBadge(g.unread)
          )
        ));
        if (everyone) {
          items.push(h(
            "li",
            {},
            h(
              "button",
              { type: "button", class: "entry everyone", "data-testid": "everyone", "data-key": "everyone", "aria-current": everyone.key === state.active ? "true" : void 0 },
              h("span", { class: "entry-hash", "aria-hidden": "true" }, "*"),
              h("span", { class: "entry-name" }, "Everyone"),
              unreadBadge(everyone.unread)
            )
          ));
        }
        replaceChildren(this.groups, items.length === 0 ? [h("li", { class: "empty" }, "No groups yet.")] : items);
        for (const button of this.groups.querySelectorAll("button.group")) {
          button.addEventListener("click", () => state.open("group", button.dataset.groupId ?? ""));
        }
        this.groups.querySelector("button.everyone")?.addEventListener("click", () => state.open("everyone", ""));
      }
    }
  };
  function unreadBadge(count) {
    if (count === 0) return null;
    return h("span", { class: "unread", "data-testid": "unread", "aria-label": `${count} unread` }, String(count));
  }

  // src/app.ts
  function routeUrl() {
    const meta = document.querySelector('meta[name="cim-route"]')?.content.trim() ?? "";
    if (meta !== "" && !meta.includes("%CIM_ROUTE%")) return meta;
    return "http://127.0.0.1:8083";
  }
  var App = class {
    constructor() {
      this.route = routeUrl();
      this.chatView = byId("chat-view");
      this.login = new LoginView(this.route, (request) => this.logIn(request));
      Sidebar.wireForms(() => this.session);
      ConversationView.wire(() => this.conversation);
      byId("logout-button").addEventListener("click", () => {
        this.session?.logout().catch(showError);
      });
      window.addEventListener("pagehide", () => this.session?.close());
      window.addEventListener("online", () => this.session?.networkChanged());
      window.addEventListener("offline", () => this.session?.networkChanged());
      this.login.show();
    }
    async logIn(request) {
      if (request.userName === "" || request.password === "") {
        showError(new Error("Enter a user name and a password."));
        return;
      }
      try {
        const session = await ChatSession.start(this.route, request.userName, request.password, request.register, {
          onError: showError,
          onEnded: (reason) => this.ended(session, reason)
        });
        this.enter(session);
      } catch (e) {
        showError(e);
      }
    }
    enter(session) {
      clearNotices();
      this.session = session;
      this.sidebar = new Sidebar(session);
      this.conversation = new ConversationView(session);
      session.state.subscribe((change) => {
        switch (change.kind) {
          case "status":
            this.sidebar?.renderStatus();
            break;
          case "sidebar":
            this.sidebar?.render();
            this.conversation?.renderHeader();
            this.updateTitle();
            break;
          case "active":
            this.conversation?.render();
            break;
          case "message":
            this.conversation?.update(change.key, change.message, change.added);
            break;
          case "notice":
            showInfo(change.text);
            break;
        }
      });
      this.login.hide();
      this.chatView.hidden = false;
      document.body.dataset.view = "chat";
      this.updateTitle();
    }
    ended(session, reason) {
      if (this.session !== session) return;
      this.session = void 0;
      this.sidebar = void 0;
      this.conversation = void 0;
      this.chatView.hidden = true;
      document.body.dataset.view = "login";
      if (!reason.byUser) {
        const why = reason.code === ErrorCode.TOO_MANY_SESSIONS ? "Too many sessions of this user are open." : reason.message;
        showProblem(`Disconnected: ${why}`, reason.code === void 0 ? void 0 : errorName(reason.code));
      }
      this.login.show(session.state.me.userName);
      document.title = "cim chat";
    }
    updateTitle() {
      const unread = [...this.session?.state.conversations.values() ?? []].reduce((n, c) => n + c.unread, 0);
      document.title = unread > 0 ? `(${unread}) cim chat` : "cim chat";
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => new App());
  else new App();
})();
