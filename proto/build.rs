//! Compiles `cim/v1/*.proto` with protox (no system `protoc` needed) and generates Rust with
//! prost, plus tonic services when the `grpc` feature is on.

use std::path::PathBuf;

const PROTOS: &[&str] = &["cim/v1/frame.proto", "cim/v1/route.proto", "cim/v1/internal.proto"];
/// The files of the public route API (and what they import).
const PUBLIC_PROTOS: &[&str] = &["cim/v1/frame.proto", "cim/v1/route.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(PROTOS, ["."])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    // The compatibility test and gRPC reflection read the descriptor set as compiled now.
    std::fs::write(out_dir.join("cim_v1_descriptor.binpb"), prost::Message::encode_to_vec(&descriptors))?;
    // What a route shows through reflection: its own API, never the servers' internal one.
    let public = protox::compile(PUBLIC_PROTOS, ["."])?;
    std::fs::write(out_dir.join("cim_v1_public_descriptor.binpb"), prost::Message::encode_to_vec(&public))?;

    let serde_attr = "#[cfg_attr(feature = \"serde\", derive(serde::Serialize, serde::Deserialize))]";
    if std::env::var_os("CARGO_FEATURE_GRPC").is_some() {
        tonic_prost_build::configure().bytes(".").type_attribute(".", serde_attr).compile_fds(descriptors)?;
    } else {
        let mut config = prost_build::Config::new();
        config.bytes(["."]).type_attribute(".", serde_attr);
        config.compile_fds(descriptors)?;
    }
    Ok(())
}
