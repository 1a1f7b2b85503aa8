//! The group logic of one peer's multicast service, without IO: origin, member and relay.
//!
//! [`Node`] takes decoded inputs through `handle_*(now, …)` methods (messages as
//! [`ClientMessage`] and [`PeerMessage`], which the driver decodes and whose decode errors it
//! handles) and returns [`Action`]s through [`Node::poll_action`]; timers are actions too. It reads no clock, opens no socket
//! and draws randomness only from the generator it is given. The service binary's mio driver
//! maps clients and CADET channels to [`ClientId`] and [`ChannelId`] and carries the actions
//! out; the simulator ([`crate::sim`]) does the same over a simulated network.
//!
//! # The tree, and what C peers see of it
//!
//! The C original never built a tree (gap G1): only the origin opened the group's CADET port
//! and every member hung directly off it. Here every peer that hosts a member opens the port
//! too and can act as a relay. All of it rides on the original message types:
//!
//! - **Tree flag.** Our JOIN_REQUESTs carry [`TREE_CAPABLE`](crate::msg::TREE_CAPABLE) in
//!   the `reserved` field, which is outside the signed range and never read by C peers. It
//!   says "I follow redirects and can relay". Origin clients receive the request with the
//!   field zeroed, as a C service would deliver it.
//! - **Redirect.** A peer with [`Config::max_children`] children answers a tree-capable
//!   joiner with a JOIN_DECISION whose `is_admitted` is [`REDIRECT`](crate::msg::REDIRECT)
//!   (2) and whose relay list names its tree-capable children, rotated round-robin. The
//!   joiner closes the channel and tries them in order. C joiners are never redirected (they
//!   could not follow) and are taken beyond the bound; a C origin never redirects, so our
//!   members hang directly off it, as C members do.
//! - **Joins travel up, decisions down.** A relay checks a join request (group of the port,
//!   peer of the channel, signature) and passes it to its parent; the origin's clients decide
//!   and the decision comes back along the same path (matched by joiner peer and member key,
//!   as the C service matched it). Every hop records which admitted members are reachable
//!   through each child channel: requests and replay requests from any other key are dropped
//!   and counted. Joiners may join through a relay that is itself still joining.
//! - **Messages down.** Fragments are verified (group signature, purpose 19) at every hop,
//!   deduplicated by fragment id, delivered to local clients and sent to admitted children.
//!   `hop_counter` (unsigned, ignored by C) carries the receiver's depth: 1 for the origin's
//!   children. A member that sees a non-zero hop counter knows its parent is ours.
//! - **Admission point.** When the origin admits a member it notes its newest fragment id;
//!   the decision carries it to tree-capable joiners in an 8-byte trailer
//!   ([`JoinDecision::admitted_after`](crate::msg::JoinDecision::admitted_after)), stripped
//!   for C peers and clients. Every hop records it, and re-admission sends the first one
//!   again. A member gets fragments up to that point only from the origin's application
//!   (PSYC runs its membership test there, as in C), never from a cache or a live copy.
//! - **Replay.** Requests by fragment id or by message id + offset are answered from the
//!   bounded cache of the nearest peer that has the fragment, if it came after the
//!   requester's admission point; else they are passed up, and at the origin given to one
//!   client *of that group* (gap G6). Success travels as the plain MESSAGE, which does not
//!   name the member it is for, so requests for the same fragment share one answer only if
//!   each requester may have it anyway; others wait for a round of their own. Failure
//!   travels as the 48-byte REPLAY_RESPONSE, as in C. The cache lives inside the logic (it
//!   is memory, not IO).
//! - **Repair.** When a parent channel goes away, an admitted member waits a random delay
//!   (< [`Config::reattach_jitter`]), joins again through the origin (and is redirected
//!   down), announces its admitted subtree again so the new path learns it, and pulls what
//!   it missed by replay: it probes the fragments after its newest one, and any later gap in
//!   fragment ids triggers replay requests. The origin re-admits a member it admitted before
//!   from its stored decision, without asking its clients again. Gap pulling only runs
//!   behind parents of this implementation: C origin clients mishandle replays of fragments
//!   ≥ 256 bytes (gap G5).
//! - **Group end.** When the last origin client leaves, tree-capable children get GROUP_END
//!   (756, unused by C), all child channels are closed (gap G11) and the port closes.
//!
//! # Behaviour fixes a C peer or client can notice
//!
//! - ORIGIN_START's `max_fragment_id` is read little-endian, as the C library writes it (G3).
//! - A later client of an admitted member gets the complete stored JOIN_DECISION (G9), and no
//!   new join request is sent for it (G16).
//! - PART_ACK goes only to the client that asked (G10); protocol misuse drops that client
//!   instead of aborting the service (G8).
//! - Join requests arriving over CADET go only to origin clients, not to member clients
//!   (G20); their group key must match the port and their peer the channel (G14).
//! - Members accept fragments only once admitted, and origins accept requests only from
//!   admitted member keys (G14).
//! - One FRAGMENT_ACK per fragment or request, to the sending client only (G12); a slow
//!   channel is the driver's bounded queue's business, not the other members'.
//! - Fragments larger than a CADET message (G2) still reach local clients and are counted in
//!   `# fragments too large for CADET`.
//! - Replay answers go to the requesting member of the right group (G6, G7); errors are
//!   passed back down instead of being ignored. The C service gave one answer to every
//!   request pending for the same fragment, whoever asked; here a member never gets another
//!   member's answer for a fragment from before its own admission.
//! - Only origin clients and clients of admitted members may answer replays; a member never
//!   admitted that tries is dropped, and an admitted member's answer counts only with a valid
//!   group signature (an origin's unsigned answer still reaches local requesters, as C's
//!   test_multicast needs).
//! - A MEMBER_JOIN whose member key libgnunetutil would never make (not clamped: its joins
//!   could never be verified), or whose join request could not cross CADET to the origin,
//!   gets a JOIN_DECISION with `is_admitted` −1 ("could not answer") at once, which the C
//!   client library reports without reconnecting; the C service sent it and the join failed
//!   unseen.
//! - A join decision too large for a CADET message once the admission point is added goes
//!   without it; one too large even so (which C lost silently, and whose admission point used
//!   to abort this service) reaches the joiner as −1 and is counted in
//!   `# join decisions too large for CADET`.

mod action;
mod admission;
mod config;
mod delay;
mod deniable;
mod history;
mod input;
mod member;
mod node;
mod origin;
mod repair;
mod replay;
mod rounds;
mod tree;

pub use action::{stat, Action, ChannelId, ClientId, Timer};
pub use config::Config;
pub use delay::Privacy;
pub use history::{History, Seen};
pub use input::{ClientMessage, PeerMessage};
pub use node::Node;

#[cfg(test)]
mod tests;
