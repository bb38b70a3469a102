//! Message ids (spec §7.5): ULIDs, 128 bits written as 26 Crockford base-32 characters, the
//! first 48 bits the milliseconds at which the server accepted the message.
//!
//! Stores keep them as 16 bytes, which carry both the id and its time.

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The id whose first 48 bits are `ms` (its lowest 48) and whose other 80 are `random`'s
/// lowest 80.
pub fn encode(ms: u64, random: u128) -> String {
    from_value((u128::from(ms & 0xffff_ffff_ffff) << 80) | (random & ((1 << 80) - 1)))
}

fn from_value(value: u128) -> String {
    // One allocation of the final size.
    let mut id = String::with_capacity(26);
    for i in (0..26).rev() {
        id.push(CROCKFORD[((value >> (i * 5)) & 31) as usize] as char);
    }
    id
}

/// The 16 bytes of `id` (big-endian), or `None` if it is not a ULID: 26 characters of
/// Crockford base 32, case-insensitive, the first at most `7`.
pub fn to_bytes(id: &str) -> Option<[u8; 16]> {
    let bytes = id.as_bytes();
    if bytes.len() != 26 || bytes[0] > b'7' {
        return None;
    }
    let mut value = 0u128;
    for &c in bytes {
        let digit = match c.to_ascii_uppercase() {
            c @ b'0'..=b'9' => c - b'0',
            c => CROCKFORD.iter().position(|&d| d == c)? as u8,
        };
        value = (value << 5) | u128::from(digit);
    }
    Some(value.to_be_bytes())
}

/// The id written in 16 bytes by [`to_bytes`], and its milliseconds.
pub fn from_bytes(bytes: [u8; 16]) -> (String, u64) {
    let value = u128::from_be_bytes(bytes);
    (from_value(value), (value >> 80) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_with_the_time() {
        let id = encode(1_767_225_600_123, 0xdead_beef_0123_4567_89ab);
        let bytes = to_bytes(&id).expect("a ulid");
        assert_eq!(from_bytes(bytes), (id.clone(), 1_767_225_600_123));
        assert_eq!(to_bytes(&id.to_lowercase()), Some(bytes), "case-insensitive");
    }

    #[test]
    fn non_ulids_have_no_bytes() {
        for bad in
            ["", "01ARZ3NDEKTSV4RRFFQ69G5FA", "81ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FAU!"]
        {
            assert_eq!(to_bytes(bad), None, "{bad:?}");
        }
        assert_eq!(to_bytes("01ARZ3NDEKTSV4RRFFQ69G5FAI"), None, "I is not Crockford");
    }

    #[test]
    fn timestamp_leads_the_id() {
        assert_eq!(encode(0, 0), "00000000000000000000000000");
        assert!(encode(1, 0) > encode(0, u128::MAX));
    }
}
