//! The `gotify` target. STUB: to be implemented.

use super::{DeliveryContext, DeliveryError, Endpoint};
use crate::config::{Config, GotifyConfig, Target};
use crate::notification::Notification;

pub struct Gotify<'a> {
    pub target: &'a Target,
    pub settings: &'a GotifyConfig,
    pub config: &'a Config,
    pub context: &'a DeliveryContext,
}

impl Endpoint for Gotify<'_> {
    fn name(&self) -> &str {
        &self.target.name
    }

    fn type_name(&self) -> &'static str {
        "gotify"
    }

    fn disabled(&self) -> bool {
        self.target.disable
    }

    fn deliver(
        &self,
        _event: &Notification,
        _warnings: &mut Vec<String>,
    ) -> Result<(), DeliveryError> {
        let _ = (self.settings, self.config, self.context);
        Err(DeliveryError::configuration(
            "delivery to gotify targets is not supported by this version of pvenotify",
        ))
    }
}
