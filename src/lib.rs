//! switchboard: a self-hosted webhook server for Twilio voice and messaging.
//!
//! A webhook's path: body limit and signature check ([`signature::layer`]), a thin handler
//! ([`routes`]), a pure step ([`ivr`], [`sms`]), and TwiML written by [`twiml`].

pub mod call_state;
pub mod cli;
pub mod config;
pub mod deadline;
pub mod error;
pub mod form;
pub mod graph;
pub mod hours;
pub mod ivr;
pub mod keywords;
pub mod local_token;
pub mod memory;
pub mod metrics;
pub mod outbox;
pub mod phone;
pub mod routes;
pub mod segments;
pub mod serve;
pub mod signature;
pub mod simulate;
pub mod sms;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod templates;
pub mod twilio;
pub mod twiml;
