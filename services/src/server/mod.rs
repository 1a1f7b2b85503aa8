//! The service side of the runtime: one mio loop that accepts clients, frames their messages,
//! queues replies with backpressure, keeps links to other services, and runs timers.
//!
//! Protocol decisions live in a [`Handler`]; the loop only moves bytes and calls it.

mod access;
mod ctx;
mod event_loop;
mod keyed;
pub mod link;
mod listen;
mod queue;

pub use access::{AccessError, AccessPolicy, PeerCred};
pub use ctx::{Ctx, TimerKey};
pub use event_loop::{
    ConnId, DisconnectReason, Handler, Limits, Runtime, RuntimeError, SendError, StopHandle,
    Verdict,
};
pub use keyed::KeyedLinks;
pub use link::{LinkError, LinkId};
pub use listen::{bind_unix, inherited_listeners, ListenError, UnixListenSpec};
pub use queue::SendQueue;
