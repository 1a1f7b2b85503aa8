//! Entering a place: HOST_ENTER (841) and its HOST_ENTER_ACK (842), GUEST_ENTER (843),
//! GUEST_ENTER_BY_NAME (844) and their GUEST_ENTER_ACK (845).

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::{
    Codec, DecodeError, FieldCodec, LittleEndian, Message, Reader, TrailingMessage, HEADER_SIZE,
};
use gnunet_service::wire_layout;

use super::strings::{ShortToken, Terminated};

/// Fixed part of HOST_ENTER (`struct HostEnterRequest`), header included.
pub const HOST_ENTER_HEADER_SIZE: usize = 104;
/// Size of HOST_ENTER_ACK (`struct HostEnterAck`).
pub const HOST_ENTER_ACK_SIZE: usize = 48;
/// Fixed part of GUEST_ENTER (`struct GuestEnterRequest`), header included.
pub const GUEST_ENTER_HEADER_SIZE: usize = 108;
/// Fixed part of GUEST_ENTER_BY_NAME (`struct GuestEnterByNameRequest`), header included.
pub const GUEST_ENTER_BY_NAME_HEADER_SIZE: usize = 36;
/// Size of GUEST_ENTER_ACK (PSYC's `struct GNUNET_PSYC_CountersResultMessage`).
pub const GUEST_ENTER_ACK_SIZE: usize = psyc::msg::COUNTERS_RESULT_SIZE;

/// HOST_ENTER (841), 104 bytes + app id: the client hosts a place, a new one (all-zero
/// `place_pub_key`) or one it entered before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostEnter {
    /// PSYC channel [`policy`](psyc::msg::policy) (offset 4). **Little-endian**: the C library
    /// and service copy it in host order, and pass it on to PSYC's MASTER_START, which also
    /// keeps host order.
    pub policy: u32,
    /// The hosting ego; only recorded (offset 8).
    pub ego_pub_key: ecdsa::PublicKey,
    /// The place to enter, or all zero to create one (offset 40).
    pub place_pub_key: eddsa::PublicKey,
    /// The place's private key (offset 72): zero from clients; the service fills it in for a
    /// new place and persists the request.
    pub place_key: eddsa::PrivateKey,
    /// Application id without its NUL (offset 104): one NUL-terminated string filling the
    /// rest, 255 bytes at most with the NUL (the C service measures it in 8 bits).
    pub app_id: Vec<u8>,
}

wire_layout! {
    impl Message(super::TYPE_HOST_ENTER) for HostEnter {
        policy as LittleEndian,
        ego_pub_key,
        place_pub_key,
        place_key,
        app_id as ShortToken,
    }
}

/// HOST_ENTER_ACK (842), 48 bytes: the host's place is (or is not) ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostEnterAck {
    /// For a new place PSYC's MASTER_START result (1 history exists, 0 brand-new place, −1
    /// error); for a place already entered 1 (offset 4). 32-bit two's complement.
    pub result_code: i32,
    /// Last message id of the channel (offset 8).
    pub max_message_id: u64,
    /// The place's key: how a client learns the key of a new place (offset 16).
    pub place_pub_key: eddsa::PublicKey,
}

wire_layout! {
    impl Message(super::TYPE_HOST_ENTER_ACK) for HostEnterAck {
        result_code,
        max_message_id,
        place_pub_key,
    }
}

/// GUEST_ENTER (843), 108 bytes + app id + relays + join message: the client enters a place
/// as a guest, by its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestEnter {
    /// The guest ego, which must be known to IDENTITY (offset 8).
    pub ego_pub_key: ecdsa::PublicKey,
    /// The place (offset 40).
    pub place_pub_key: eddsa::PublicKey,
    /// The host's peer, multicast origin (offset 72).
    pub origin: PeerIdentity,
    /// PSYC [`slave_join_flags`](psyc::msg::slave_join_flags) (offset 104).
    pub flags: u32,
    /// Application id without its NUL (offset 108); must not contain a NUL.
    pub app_id: Vec<u8>,
    /// Peers to join through, after the app id; their number is `relay_count` at offset 4.
    pub relays: Vec<PeerIdentity>,
    /// Optional join message (a client PSYC_MESSAGE, type 691, from the C library; not type
    /// checked) that exactly fills the rest.
    pub join_msg: Option<Vec<u8>>,
}

impl Codec for GuestEnter {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.relays.len() as u32).encode(out);
        self.ego_pub_key.encode(out);
        self.place_pub_key.encode(out);
        self.origin.encode(out);
        self.flags.encode(out);
        Terminated::encode_field(&self.app_id, out);
        for relay in &self.relays {
            relay.encode(out);
        }
        TrailingMessage::encode_field(&self.join_msg, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let relay_count = u32::read(r)?;
        let ego_pub_key = ecdsa::PublicKey::read(r)?;
        let place_pub_key = eddsa::PublicKey::read(r)?;
        let origin = PeerIdentity::read(r)?;
        let flags = u32::read(r)?;
        let app_id = Terminated::read_field(r, "app_id")?;
        let relays = read_relays(r, relay_count, RelaysEnd::MayFollow)?;
        Ok(Self {
            ego_pub_key,
            place_pub_key,
            origin,
            flags,
            app_id,
            relays,
            join_msg: TrailingMessage::read_field(r, "join message")?,
        })
    }

    fn encoded_len(&self) -> usize {
        GUEST_ENTER_HEADER_SIZE - HEADER_SIZE
            + Terminated::field_len(&self.app_id)
            + 32 * self.relays.len()
            + TrailingMessage::field_len(&self.join_msg)
    }
}

impl Message for GuestEnter {
    const TYPE: u16 = super::TYPE_GUEST_ENTER;
}

/// Whether a relay list must end the message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum RelaysEnd {
    /// More (a join message) may follow.
    MayFollow,
    /// The relays must fill the rest exactly.
    FillsRest,
}

/// Reads `count` peer identities, refusing a count the message cannot hold before allocating
/// for it (the C service computed the relay bytes in 16 bits, where a huge count wraps; here it
/// is an error).
pub(super) fn read_relays(
    r: &mut Reader<'_>,
    count: u32,
    end: RelaysEnd,
) -> Result<Vec<PeerIdentity>, DecodeError> {
    let bytes = (count as usize)
        .checked_mul(32)
        .filter(|&n| match end {
            RelaysEnd::MayFollow => n <= r.left(),
            RelaysEnd::FillsRest => n == r.left(),
        })
        .ok_or(DecodeError::Invalid {
            field: "relay_count",
            reason: "does not match the bytes the message holds",
        })?;
    r.take(bytes, "relays")?
        .chunks_exact(32)
        .map(PeerIdentity::decode_exact)
        .collect()
}

/// GUEST_ENTER_BY_NAME (844), 36 bytes + three strings + join message: enter the place a GNS
/// name resolves to, relative to the ego's zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestEnterByName {
    /// The guest ego; also the GNS zone of the lookup (offset 4).
    pub ego_pub_key: ecdsa::PublicKey,
    /// Application id without its NUL (offset 36); must not contain a NUL.
    pub app_id: Vec<u8>,
    /// The GNS name of the place, after the app id; must not contain a NUL.
    pub gns_name: Vec<u8>,
    /// Password, empty for none, after the name; must not contain a NUL.
    pub password: Vec<u8>,
    /// Optional join message (type 691) that exactly fills the rest.
    pub join_msg: Option<Vec<u8>>,
}

wire_layout! {
    impl Message(super::TYPE_GUEST_ENTER_BY_NAME) for GuestEnterByName {
        ego_pub_key,
        app_id as Terminated,
        gns_name as Terminated,
        password as Terminated,
        join_msg as TrailingMessage,
    }
}

/// GUEST_ENTER_ACK (845), 16 bytes: PSYC's `CountersResultMessage` layout
/// ([`psyc::msg::SlaveJoinAck`]) under social's type number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestEnterAck {
    /// 1, or −1 if PSYC's slave join failed (offset 4); 32-bit two's complement.
    pub result_code: i32,
    /// Last message id of the channel (offset 8).
    pub max_message_id: u64,
}

wire_layout! {
    impl Message(super::TYPE_GUEST_ENTER_ACK) for GuestEnterAck {
        result_code,
        max_message_id,
    }
}

impl From<psyc::msg::SlaveJoinAck> for GuestEnterAck {
    /// The ack the C service builds from PSYC's: the same fields.
    fn from(ack: psyc::msg::SlaveJoinAck) -> Self {
        Self {
            result_code: ack.result_code,
            max_message_id: ack.max_message_id,
        }
    }
}

#[cfg(test)]
#[path = "enter_tests.rs"]
mod tests;
