//! Any bytes as one client's stream, framed and served by the sans-IO handler on an in-memory
//! store, exactly as the service would (writes in batches, reads drained in small steps):
//! no panic, every reply is one the C library accepts, and every answered request ends with
//! exactly one final message carrying its op id. Each request is also opened in a client
//! [`Session`] (under the op id the session picks) and every reply fed to it: the client side
//! accepts every answer the service gives, and the final one closes the operation.
#![no_main]

use gnunet_service::wire::Framer;
use libfuzzer_sys::fuzz_target;
use psycstore::client::{parse_reply, Session};
use psycstore::handler::{commit, plan, Job, PendingWrite};
use psycstore::msg::{Operation, Reply, Request};
use psycstore::store::SqliteStore;

fn check_final(replies: &[Vec<u8>], op_id: u64) {
    let parsed: Vec<Reply> = replies
        .iter()
        .map(|m| parse_reply(m).expect("the C library accepts every reply"))
        .collect();
    assert!(parsed.iter().all(|r| r.op_id() == op_id));
    let finals = parsed
        .iter()
        .filter(|r| matches!(r, Reply::ResultCode(_) | Reply::Counters(_)))
        .count();
    assert_eq!(finals, 1);
    assert!(matches!(
        parsed.last(),
        Some(Reply::ResultCode(_) | Reply::Counters(_))
    ));
}

/// The client session takes every reply of `op_id`; the last one closes it.
fn client_accepts(client: &mut Session, replies: &[Vec<u8>], op_id: u64) {
    for (i, reply) in replies.iter().enumerate() {
        let event = client.handle(reply).expect("the client session accepts every reply");
        assert_eq!(event.op_id(), op_id);
        assert_eq!(event.is_final(), i + 1 == replies.len());
    }
    assert!(!client.is_open(op_id));
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut store) = SqliteStore::open_in_memory() else {
        return;
    };
    let mut client = Session::with_max_pending(64);
    let mut framer = Framer::new();
    framer.push(data);
    let mut batch: Vec<PendingWrite> = Vec::new();
    let flush = |store: &mut SqliteStore, batch: &mut Vec<PendingWrite>, client: &mut Session| {
        let replies = commit(store, batch);
        assert_eq!(replies.len(), batch.len());
        for (w, r) in batch.iter().zip(&replies) {
            check_final(std::slice::from_ref(r), w.op_id);
            client_accepts(client, std::slice::from_ref(r), w.op_id);
        }
        batch.clear();
    };
    // a framing error or a bad message ends the session, as the service drops the client
    while let Ok(Some(msg)) = framer.next_message() {
        let Ok(mut request) = Request::decode(msg.bytes()) else {
            break;
        };
        if client.pending() >= 64 {
            flush(&mut store, &mut batch, &mut client);
        }
        let (op_id, _) = client
            .start(|op| {
                request.set_op_id(op);
                Ok(request.to_message())
            })
            .expect("every decodable request opens");
        match plan(request) {
            Job::Write(w) => {
                batch.push(w);
                if batch.len() >= 8 {
                    flush(&mut store, &mut batch, &mut client);
                }
            }
            Job::Reply(replies) => {
                flush(&mut store, &mut batch, &mut client);
                check_final(&replies, op_id);
                client_accepts(&mut client, &replies, op_id);
            }
            Job::Read(mut stream) => {
                flush(&mut store, &mut batch, &mut client);
                let mut replies = Vec::new();
                let mut steps = 0;
                while !stream.is_finished() {
                    let step = stream.next_batch(&mut store, 3);
                    assert!(!step.is_empty() && step.len() <= 3);
                    replies.extend(step);
                    steps += 1;
                    assert!(steps < 100_000, "a stream ends");
                }
                check_final(&replies, op_id);
                client_accepts(&mut client, &replies, op_id);
            }
        }
    }
    flush(&mut store, &mut batch, &mut client);
    assert_eq!(client.pending(), 0);
});
