//! Per-channel credit on both sides of the CADET client socket (sans-IO).

use super::CHANNEL_WINDOW;

/// A flow-control rule the other side broke, or we were about to break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// Sending without credit would get us disconnected by the service.
    #[error("no send credit on this channel")]
    NoCredit,
    /// The service granted more than the window allows.
    #[error("service granted credit beyond the window of {CHANNEL_WINDOW}")]
    TooMuchCredit,
}

/// Flow state of one channel, as seen by a client.
///
/// Sending: one `LOCAL_ACK` from the service allows one `LOCAL_DATA`; credit starts at 0.
/// Receiving: the service hands one message, then waits for our `LOCAL_ACK`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelFlow {
    credit: u32,
    /// Messages received that we have not acknowledged yet.
    unacked_received: u32,
}

impl ChannelFlow {
    /// The service sent `LOCAL_ACK`: one more message may go out.
    pub fn on_ack(&mut self) -> Result<(), FlowError> {
        // The receiving side of an unacknowledged message may add one (4 + 1 observed).
        if self.credit > CHANNEL_WINDOW {
            return Err(FlowError::TooMuchCredit);
        }
        self.credit += 1;
        Ok(())
    }

    /// Whether a `LOCAL_DATA` may be sent now.
    pub fn can_send(&self) -> bool {
        self.credit > 0
    }

    /// Credit left.
    pub fn credit(&self) -> u32 {
        self.credit
    }

    /// Accounts for one `LOCAL_DATA` about to be sent.
    pub fn on_send(&mut self) -> Result<(), FlowError> {
        if self.credit == 0 {
            return Err(FlowError::NoCredit);
        }
        self.credit -= 1;
        Ok(())
    }

    /// A `LOCAL_DATA` arrived; it must be acknowledged with [`ChannelFlow::on_receive_done`].
    pub fn on_receive(&mut self) {
        self.unacked_received += 1;
    }

    /// We acknowledged one received message; false if none was pending.
    pub fn on_receive_done(&mut self) -> bool {
        if self.unacked_received == 0 {
            return false;
        }
        self.unacked_received -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_starts_at_zero_and_follows_acks() {
        let mut f = ChannelFlow::default();
        assert!(!f.can_send());
        assert_eq!(f.on_send(), Err(FlowError::NoCredit));
        for _ in 0..CHANNEL_WINDOW {
            f.on_ack().unwrap();
        }
        assert_eq!(f.credit(), 4);
        for _ in 0..4 {
            f.on_send().unwrap();
        }
        assert!(!f.can_send());
    }

    #[test]
    fn more_than_window_plus_one_is_a_protocol_error() {
        let mut f = ChannelFlow::default();
        for _ in 0..=CHANNEL_WINDOW {
            f.on_ack().unwrap();
        }
        assert_eq!(f.on_ack(), Err(FlowError::TooMuchCredit));
    }

    #[test]
    fn receive_done_only_for_received_messages() {
        let mut f = ChannelFlow::default();
        assert!(!f.on_receive_done());
        f.on_receive();
        assert!(f.on_receive_done());
    }
}
