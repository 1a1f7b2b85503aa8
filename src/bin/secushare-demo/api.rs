//! The steps `gnunet-social` has no option for, done through the client API
//! (`social::client::App`) and printed as what they are: API calls, not commands.

use std::time::{Duration, SystemTime};

use gnunet_service::config::Config;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use social::client::{App, OpResult};
use testnet::Testnet;

use crate::diagnose::{DemoError, Suspects};

/// The application id the demo's API calls use (the CLI's default, so its places list too).
const APP_ID: &str = "cli";
/// How long published records stay valid.
const RECORD_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// An application connection to the social service of one peer.
pub struct PeerApp<'a> {
    net: &'a Testnet,
    peer: usize,
    app: App,
}

impl<'a> PeerApp<'a> {
    /// Connects as the application `cli` to peer `peer`'s social service.
    pub fn connect(net: &'a Testnet, peer: usize) -> Result<Self, DemoError> {
        let suspects = || Suspects::new(net, "social", peer);
        let config = Config::load(Some(net.peer(peer).config_path()))
            .map_err(|e| DemoError::Io(format!("read p{}.conf: {e}", peer + 1)))?;
        let app = App::connect(&config, APP_ID).map_err(|e| {
            suspects().unexpected(&format!(
                "API: connecting to social on peer {} failed: {e}",
                peer + 1
            ))
        })?;
        Ok(Self { net, peer, app })
    }

    /// The public key of the ego named `name`, as this peer's social service lists it.
    pub fn ego(&self, name: &str) -> Result<ecdsa::PublicKey, DemoError> {
        self.app
            .egos()
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.pub_key)
            .ok_or_else(|| {
                Suspects::new(self.net, "social", self.peer)
                    .and(self.net, "identity", self.peer)
                    .unexpected(&format!(
                        "social on peer {} does not list the ego {name}",
                        self.peer + 1
                    ))
            })
    }

    /// `ZONE_ADD_PLACE`: publishes `place`, hosted on this peer, under `label` in the zone of
    /// the ego `ego`.
    pub fn zone_add_place(
        &mut self,
        ego: &str,
        label: &str,
        place: eddsa::PublicKey,
    ) -> Result<(), DemoError> {
        let key = self.ego(ego)?;
        let origin = PeerIdentity(self.net.peer(self.peer).identity_bytes());
        println!(
            "[API p{}] social::client::App::zone_add_place(ego: {ego}, name: {label:?}, place: {place}, origin: p{}, expires: in 1 day)",
            self.peer + 1,
            self.peer + 1
        );
        let expiration = SystemTime::now() + RECORD_LIFETIME;
        let result = self
            .app
            .zone_add_place(key, label, "", place, origin, &[], expiration);
        self.done("zone_add_place", result)
    }

    /// `ZONE_ADD_NYM`: names the ego key `nym` as `label` in the zone of the ego `ego`.
    pub fn zone_add_nym(
        &mut self,
        ego: &str,
        label: &str,
        nym: ecdsa::PublicKey,
    ) -> Result<(), DemoError> {
        let key = self.ego(ego)?;
        println!(
            "[API p{}] social::client::App::zone_add_nym(ego: {ego}, name: {label:?}, nym: {nym}, expires: in 1 day)",
            self.peer + 1
        );
        let expiration = SystemTime::now() + RECORD_LIFETIME;
        let result = self.app.zone_add_nym(key, label, nym, expiration);
        self.done("zone_add_nym", result)
    }

    fn done(
        &self,
        call: &str,
        result: Result<OpResult, social::client::Error>,
    ) -> Result<(), DemoError> {
        let suspects =
            Suspects::new(self.net, "social", self.peer).and(self.net, "namestore", self.peer);
        match result {
            Ok(r) if r.result >= 0 => {
                println!("  → result {}", r.result);
                Ok(())
            }
            Ok(r) => Err(suspects.unexpected(&format!(
                "API: {call} on peer {} failed with result {}{}",
                self.peer + 1,
                r.result,
                r.error.map(|e| format!(": {e}")).unwrap_or_default()
            ))),
            Err(e) if e.is_timeout() => {
                Err(suspects
                    .no_answer(&format!("API call {call}"), social::client::DEFAULT_TIMEOUT))
            }
            Err(e) => Err(suspects.unexpected(&format!(
                "API: {call} on peer {} failed: {e}",
                self.peer + 1
            ))),
        }
    }
}
