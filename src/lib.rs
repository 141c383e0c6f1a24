//! switchboard: a self-hosted webhook server for Twilio voice and messaging.

pub mod form;
pub mod signature;
pub mod twiml;
