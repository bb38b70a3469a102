//! Two users say hello through a cim node, with the Rust SDK.
//!
//!     cargo run -p cim -- up &
//!     cargo run -p cim-sdk --example hello -- http://127.0.0.1:8083

use cim_sdk::{Client, ClientOptions, Credentials, Event};

#[tokio::main]
async fn main() -> Result<(), cim_sdk::Error> {
    let route = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:8083".to_owned());
    let suffix = std::process::id();
    let (alice_name, bob_name) = (format!("alice-{suffix}"), format!("bob-{suffix}"));
    for name in [&alice_name, &bob_name] {
        cim_sdk::register(&route, name, "correct horse battery").await?;
    }
    let login = |name: &str| {
        Client::login(
            &route,
            Credentials::password(name, "correct horse battery"),
            ClientOptions::new("rust-example"),
        )
    };
    let alice = login(&alice_name).await?;
    let mut bob = login(&bob_name).await?;
    alice.send_to_user(&bob.user_id(), "hello from Rust").await?;
    while let Some(event) = bob.next_event().await {
        if let Event::Message(message) = event {
            println!("{bob_name} got {:?} from {}", message.text(), message.from);
            break;
        }
    }
    alice.close().await;
    bob.close().await;
    Ok(())
}
