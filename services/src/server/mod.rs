//! The service side of the runtime: one mio loop that accepts clients, frames their messages,
//! queues replies with backpressure, connects to other services, and runs timers.
//!
//! Protocol decisions live in a [`Handler`]; the loop only moves bytes and calls it.

mod access;
mod event_loop;
mod listen;
mod queue;

pub use access::{AccessPolicy, PeerCred};
pub use event_loop::{
    ConnId, Ctx, DisconnectReason, Handler, Limits, Origin, Runtime, RuntimeError, SendError,
    Verdict,
};
pub use listen::{bind_unix, inherited_listeners, ListenError, UnixListenSpec};
pub use queue::SendQueue;
