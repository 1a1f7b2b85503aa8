//! The blocking driver against a scripted service on a real UNIX socket: that it writes one
//! container per MESSAGE_ACK while it waits, keeps the events that arrive meanwhile for the
//! caller, and collects operation answers. (Tests against the real `gnunet-service-psyc` live
//! with the service.)

use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use gnunet_service::client::{BlockingClient, ClientError};
use gnunet_service::crypto::{ecdsa, eddsa};

use super::*;
use crate::format::container::{Delivery, DeliveryHeader, DELIVERY_HISTORIC};
use crate::msg::{
    policy, HistoryResult, JoinRequest, MasterStartAck, MessageAck, Request, ResultCode,
    TYPE_MESSAGE,
};

/// A socket path of its own for each test.
fn socket_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("psyc-client-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn transmit_is_paced_by_acks_and_keeps_other_events() {
    let path = socket_path("transmit");
    let listener = UnixListener::bind(&path).unwrap();
    let service = thread::spawn(move || -> Result<usize, ClientError> {
        let (stream, _) = listener.accept()?;
        let mut conn = BlockingClient::from_stream(stream);
        let start = conn.recv(Some(DEFAULT_TIMEOUT))?;
        assert!(matches!(
            Request::decode(start.bytes()),
            Ok(Request::MasterStart(_))
        ));
        conn.send(&MasterStartAck {
            result_code: 1,
            max_message_id: 0,
        })?;
        let mut containers = 0;
        loop {
            let c = conn.recv(Some(DEFAULT_TIMEOUT))?;
            assert_eq!(c.msg_type(), TYPE_MESSAGE);
            containers += 1;
            // Nothing more comes before the ACK.
            assert!(matches!(
                conn.recv(Some(Duration::from_millis(100))),
                Err(ClientError::Timeout(_))
            ));
            if containers == 2 {
                conn.send(&JoinRequest {
                    slave_pub_key: ecdsa::PublicKey([4; 32]),
                    join_msg: None,
                })?;
            }
            conn.send(&MessageAck)?;
            // The last container ends with an END part (type 697 at its last 4 bytes).
            if c.bytes().ends_with(&[0, 4, 0x02, 0xb9]) {
                break;
            }
        }
        // One history operation: a fragment, then the count.
        let req = conn.recv(Some(DEFAULT_TIMEOUT))?;
        let op_id = Request::decode(req.bytes()).ok().and_then(|r| r.op_id());
        assert_eq!(op_id, Some(1));
        let mut parts = Vec::new();
        crate::format::message::PsycMessage::new("_notice")
            .render_parts(&mut parts)
            .unwrap();
        let delivery = Delivery {
            header: DeliveryHeader {
                flags: DELIVERY_HISTORIC,
                message_id: 1,
                ..DeliveryHeader::default()
            },
            parts,
        };
        conn.send(&HistoryResult::new(1, delivery))?;
        conn.send(&ResultCode::new(1, 1))?;
        Ok(containers)
    });

    let (mut client, started) =
        Client::master_start(&path, eddsa::PrivateKey([1; 32]), policy::PRIVATE).unwrap();
    assert_eq!(started.result, 1);
    let cancelled = client
        .transmit("_notice_test", 0, Environment::new(), vec![7; 150_000])
        .unwrap();
    assert!(!cancelled);
    let history = client.history_latest(1, "", 0).unwrap();
    assert_eq!(history.result, 1);
    assert_eq!(history.messages.len(), 1);
    assert_eq!(history.messages[0].flags, DELIVERY_HISTORIC);
    // The join request that arrived during the transmission was kept.
    assert!(matches!(
        client.next_event(Some(Duration::from_secs(1))),
        Ok(Event::JoinRequest { slave_pub_key, .. }) if slave_pub_key == ecdsa::PublicKey([4; 32])
    ));
    // METHOD alone (a maximal DATA part does not fit beside it), then 64392 + 64392 + rest.
    assert_eq!(service.join().unwrap().unwrap(), 4);
    // The service is gone: the next read reports it.
    assert!(matches!(
        client.next_event(Some(Duration::from_secs(5))),
        Err(Error::Service(ClientError::Closed))
    ));
    let _ = std::fs::remove_file(&path);
}
