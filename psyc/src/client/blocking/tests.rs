//! The blocking driver against a scripted service on a real UNIX socket: that it writes one
//! container per MESSAGE_ACK while it waits (window 1), keeps the events that arrive meanwhile
//! for the caller, and collects operation answers; that queued messages keep the window full
//! and are accounted for. (Tests against the real `gnunet-service-psyc` live with the
//! service.)

use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use gnunet_service::client::{BlockingClient, ClientError};
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::wire::Message;

use super::*;
use crate::client::Limits;
use crate::format::container::{ClientMessage, Delivery, DeliveryHeader, DELIVERY_HISTORIC};
use crate::format::parts::{PartKind, Parts};
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

    let session =
        Session::master(eddsa::PrivateKey([1; 32]), policy::PRIVATE).with_limits(Limits {
            max_containers_in_flight: 1,
            ..Limits::default()
        });
    let (mut client, started) = Client::start(&path, session).unwrap();
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

/// The service side of [`queued_messages_keep_the_window_full`]: MASTER_START, then `first`
/// one-container messages acknowledged whenever `window` are unacknowledged (never more), one
/// more acknowledged at once, then three of which one is acknowledged before the connection
/// closes.
fn windowed_service(
    listener: UnixListener,
    window: usize,
    first: usize,
) -> Result<(), ClientError> {
    let (stream, _) = listener.accept()?;
    let mut conn = BlockingClient::from_stream(stream);
    conn.recv(Some(DEFAULT_TIMEOUT))?;
    conn.send(&MasterStartAck {
        result_code: 1,
        max_message_id: 0,
    })?;
    let container = |conn: &mut BlockingClient| -> Result<(), ClientError> {
        let c = conn.recv(Some(DEFAULT_TIMEOUT))?;
        assert_eq!(c.msg_type(), TYPE_MESSAGE);
        // Whole messages of one container: METHOD first, END last.
        let parts = ClientMessage::from_message(c.bytes()).unwrap().parts;
        let kinds: Vec<PartKind> = Parts::new(&parts).map(|p| p.unwrap().kind()).collect();
        assert_eq!(kinds.first(), Some(&PartKind::Method));
        assert_eq!(kinds.last(), Some(&PartKind::End));
        Ok(())
    };
    let (mut got, mut unacked, mut checked) = (0, 0, false);
    while got < first {
        container(&mut conn)?;
        got += 1;
        unacked += 1;
        if unacked == window && got < first {
            if !checked {
                // The window is full: nothing more comes before an ACK.
                assert!(matches!(
                    conn.recv(Some(Duration::from_millis(100))),
                    Err(ClientError::Timeout(_))
                ));
                checked = true;
            }
            conn.send(&MessageAck)?;
            unacked -= 1;
        }
    }
    for _ in 0..unacked {
        conn.send(&MessageAck)?;
    }
    container(&mut conn)?;
    conn.send(&MessageAck)?;
    for _ in 0..3 {
        container(&mut conn)?;
    }
    conn.send(&MessageAck)?;
    Ok(())
}

#[test]
fn queued_messages_keep_the_window_full() {
    let path = socket_path("queued");
    let listener = UnixListener::bind(&path).unwrap();
    let (window, first) = (4, 20);
    let service = thread::spawn(move || windowed_service(listener, window, first));

    let session =
        Session::master(eddsa::PrivateKey([1; 32]), policy::PRIVATE).with_limits(Limits {
            max_containers_in_flight: window,
            max_queued_messages: 5,
            ..Limits::default()
        });
    let (mut client, _) = Client::start(&path, session).unwrap();
    for i in 0..first {
        client
            .transmit_queued("_notice_queued", 0, Environment::new(), vec![i as u8; 100])
            .unwrap();
        // Returns once queued: waits only while the queue is full.
        assert!(client.session().queued_messages() <= 5);
    }
    // A blocking transmit returns its own outcome, after the queued ones.
    assert!(!client
        .transmit("_notice_last", 0, Environment::new(), vec![1; 10])
        .unwrap());
    assert_eq!(
        client.wait_transmitted().unwrap(),
        TransmitReport {
            transmitted: first as u64,
            ..TransmitReport::default()
        }
    );
    assert!(!client.session().is_transmitting());
    // Three more; the service acknowledges one and goes away.
    for _ in 0..3 {
        client
            .transmit_queued("_notice_queued", 0, Environment::new(), vec![2; 100])
            .unwrap();
    }
    assert!(matches!(client.wait_transmitted(), Err(Error::Service(_))));
    service.join().unwrap().unwrap();
    assert_eq!(
        client.wait_transmitted().unwrap(),
        TransmitReport {
            transmitted: 1,
            cancelled: 0,
            lost: 2
        }
    );
    // No transmission event is left for the caller.
    assert!(client.next_event(Some(Duration::ZERO)).is_err());
    let _ = std::fs::remove_file(&path);
}
