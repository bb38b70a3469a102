//! Wire compatibility: the proto as compiled now against the released descriptor set in
//! `spec/v1/released-descriptor.binpb`. A released field, enum value, oneof membership or
//! RPC may never be removed, renumbered, renamed or retyped; additions are fine.
//!
//! After a release that adds things, record the new baseline with
//! `CIM_RELEASE_DESCRIPTOR=1 cargo test -p cim-proto --test compat` (it still refuses to
//! record an incompatible change).

use std::collections::BTreeMap;

use prost::Message;
use prost_types::{DescriptorProto, FileDescriptorSet};

const RELEASED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/v1/released-descriptor.binpb");

fn current() -> FileDescriptorSet {
    FileDescriptorSet::decode(cim_proto::DESCRIPTOR_SET).expect("compiled descriptor set")
}

/// Every message by full name (nested ones too).
fn messages(set: &FileDescriptorSet) -> BTreeMap<String, &DescriptorProto> {
    fn walk<'a>(prefix: &str, message: &'a DescriptorProto, out: &mut BTreeMap<String, &'a DescriptorProto>) {
        let name = format!("{prefix}.{}", message.name());
        for nested in &message.nested_type {
            walk(&name, nested, out);
        }
        out.insert(name, message);
    }
    let mut out = BTreeMap::new();
    for file in &set.file {
        for message in &file.message_type {
            walk(&format!(".{}", file.package()), message, &mut out);
        }
    }
    out
}

fn enums(set: &FileDescriptorSet) -> BTreeMap<String, BTreeMap<i32, String>> {
    let mut out = BTreeMap::new();
    let mut add = |prefix: String, e: &prost_types::EnumDescriptorProto| {
        let values = e.value.iter().map(|v| (v.number(), v.name().to_owned())).collect();
        out.insert(format!("{prefix}.{}", e.name()), values);
    };
    for file in &set.file {
        for e in &file.enum_type {
            add(format!(".{}", file.package()), e);
        }
    }
    for (name, message) in messages(set) {
        for e in &message.enum_type {
            add(name.clone(), e);
        }
    }
    out
}

fn methods(set: &FileDescriptorSet) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for file in &set.file {
        for service in &file.service {
            for method in &service.method {
                let name = format!(".{}.{}/{}", file.package(), service.name(), method.name());
                out.insert(name, (method.input_type().to_owned(), method.output_type().to_owned()));
            }
        }
    }
    out
}

/// Every way `now` breaks `released`, one line each.
fn incompatibilities(released: &FileDescriptorSet, now: &FileDescriptorSet) -> Vec<String> {
    let mut problems = Vec::new();
    let now_messages = messages(now);
    for (name, old) in messages(released) {
        let Some(new) = now_messages.get(&name) else {
            problems.push(format!("message {name} was removed"));
            continue;
        };
        let oneof_name = |m: &DescriptorProto, f: &prost_types::FieldDescriptorProto| {
            f.oneof_index.map(|i| m.oneof_decl[i as usize].name().to_owned())
        };
        for field in &old.field {
            let what = format!("{name}.{} = {}", field.name(), field.number());
            let Some(same) = new.field.iter().find(|f| f.number() == field.number()) else {
                problems.push(format!("field {what} was removed"));
                continue;
            };
            if same.name() != field.name() {
                problems.push(format!("field {what} was renamed to {}", same.name()));
            }
            if same.r#type() != field.r#type() || same.type_name() != field.type_name() {
                problems.push(format!("field {what} changed type"));
            }
            if same.label() != field.label() {
                problems.push(format!("field {what} changed label"));
            }
            if oneof_name(new, same) != oneof_name(old, field) {
                problems.push(format!("field {what} moved in or out of a oneof"));
            }
        }
    }
    let now_enums = enums(now);
    for (name, values) in enums(released) {
        let Some(new_values) = now_enums.get(&name) else {
            problems.push(format!("enum {name} was removed"));
            continue;
        };
        for (number, value) in values {
            if new_values.get(&number) != Some(&value) {
                problems.push(format!("enum value {name}.{value} = {number} was removed or renamed"));
            }
        }
    }
    let now_methods = methods(now);
    for (name, types) in methods(released) {
        match now_methods.get(&name) {
            None => problems.push(format!("rpc {name} was removed")),
            Some(new) if *new != types => problems.push(format!("rpc {name} changed its types")),
            Some(_) => {}
        }
    }
    problems
}

#[test]
fn current_proto_keeps_every_released_field() {
    let released_bytes = std::fs::read(RELEASED).expect("spec/v1/released-descriptor.binpb");
    let released = FileDescriptorSet::decode(released_bytes.as_slice()).expect("released descriptor set");
    let problems = incompatibilities(&released, &current());
    assert!(problems.is_empty(), "proto/ breaks the released v1 wire format:\n{}", problems.join("\n"));
    if std::env::var_os("CIM_RELEASE_DESCRIPTOR").is_some() {
        std::fs::write(RELEASED, cim_proto::DESCRIPTOR_SET).expect("write the new baseline");
    }
}

/// The check can fail: each kind of breaking change is reported.
#[test]
fn breaking_changes_are_detected() {
    let base = current();
    let edit = |f: &dyn Fn(&mut FileDescriptorSet)| {
        let mut changed = base.clone();
        f(&mut changed);
        incompatibilities(&base, &changed)
    };
    let frame_file = |set: &mut FileDescriptorSet| -> usize {
        set.file.iter().position(|f| f.name() == "cim/v1/frame.proto").expect("frame.proto")
    };
    let send = |set: &mut FileDescriptorSet| -> (usize, usize) {
        let file = frame_file(set);
        let message = set.file[file].message_type.iter().position(|m| m.name() == "Send").expect("Send");
        (file, message)
    };
    let removed = edit(&|set| {
        let (f, m) = send(set);
        set.file[f].message_type[m].field.retain(|field| field.name() != "body");
    });
    assert_eq!(removed, ["field .cim.v1.Send.body = 4 was removed"]);
    let renumbered = edit(&|set| {
        let (f, m) = send(set);
        for field in &mut set.file[f].message_type[m].field {
            if field.name() == "body" {
                field.number = Some(40);
            }
        }
    });
    assert!(renumbered.iter().any(|p| p.contains("Send.body = 4 was removed")), "{renumbered:?}");
    let retyped = edit(&|set| {
        let (f, m) = send(set);
        for field in &mut set.file[f].message_type[m].field {
            if field.name() == "body" {
                field.set_type(prost_types::field_descriptor_proto::Type::String);
            }
        }
    });
    assert_eq!(retyped, ["field .cim.v1.Send.body = 4 changed type"]);
    let enum_value = edit(&|set| {
        let f = frame_file(set);
        for e in &mut set.file[f].enum_type {
            e.value.retain(|v| v.name() != "GO_AWAY_REASON_SHUTDOWN");
        }
    });
    assert_eq!(
        enum_value,
        ["enum value .cim.v1.GoAwayReason.GO_AWAY_REASON_SHUTDOWN = 1 was removed or renamed"]
    );
    assert!(edit(&|set| set.file.iter_mut().for_each(|f| f.service.clear())).len() > 10);
    assert!(edit(&|_| {}).is_empty());
}
