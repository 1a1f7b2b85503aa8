//! Parse and render throughput on messages shaped like the libpsyc benchmark's packets
//! (presence, chat message, activity, user profile).
//!
//! `parse/validate/*`: the validating receiver over one service → client container, visiting
//! every part zero-copy (what libpsyc's parser does). `parse/assemble/*`: the same plus building
//! an owned `PsycMessage`. `render/*`: writing the parts of a message into a reused buffer.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gnunet_service::wire::Message;
use psyc::format::container::DeliveryHeader;
use psyc::format::env::Operator;
use psyc::format::message::PsycMessage;
use psyc::format::parts::Part;
use psyc::format::receive::{Assembler, Receiver};

fn msg(method: &str, mods: &[(Operator, &str, &str)], data: &str) -> PsycMessage {
    let mut m = PsycMessage::new(method);
    for (o, n, v) in mods {
        m.env.add(*o, n, v.as_bytes()).unwrap();
    }
    m.data = data.as_bytes().to_vec();
    m
}

fn samples() -> Vec<(&'static str, PsycMessage)> {
    use Operator::{Assign, Set};
    vec![
        (
            "presence",
            msg(
                "_notice_presence_here",
                &[
                    (Set, "_context", "psyc://example.org/~alice"),
                    (Assign, "_degree_availability", "4"),
                ],
                "",
            ),
        ),
        (
            "chat_message",
            msg(
                "_message_public",
                &[
                    (Set, "_context", "psyc://example.org/@chatroom"),
                    (Set, "_source_relay", "psyc://example.org/~bob"),
                ],
                "Hello, how are you doing? Long time no see! Are you coming to the meeting \
                 next week? There will be cake.",
            ),
        ),
        (
            "activity",
            msg(
                "_notice_activity_post",
                &[
                    (Set, "_context", "psyc://example.org/~alice"),
                    (Set, "_source_relay", "psyc://example.org/~bob"),
                    (Set, "_target", "psyc://example.org/~alice/#_post_123"),
                    (Set, "_subject", "Photos from the trip"),
                    (Set, "_type_content", "text/plain"),
                ],
                "We went to the mountains and took a lot of pictures, here they are.",
            ),
        ),
        (
            "user_profile",
            msg(
                "_status_profile",
                &[
                    (Set, "_context", "psyc://example.org/~alice"),
                    (Assign, "_name_public", "Alice Anonymous"),
                    (Assign, "_nick", "alice"),
                    (
                        Assign,
                        "_description",
                        "Just another PSYC user. I like walks and tea.",
                    ),
                    (Assign, "_language", "en"),
                    (Assign, "_city", "Nowhere"),
                    (Assign, "_country", "Utopia"),
                    (Assign, "_homepage", "https://example.org/~alice/"),
                    (Assign, "_birthday", "1970-01-01"),
                    (
                        Assign,
                        "_list_friends",
                        "|psyc://example.org/~bob|psyc://example.org/~carol",
                    ),
                ],
                "",
            ),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let samples = samples();
    let mut g = c.benchmark_group("parse/validate");
    g.throughput(Throughput::Elements(1));
    for (name, m) in &samples {
        let bytes = m
            .to_delivery(DeliveryHeader {
                message_id: 7,
                ..DeliveryHeader::default()
            })
            .unwrap()
            .to_message();
        let mut r = Receiver::new();
        g.bench_function(*name, |b| {
            b.iter(|| {
                let acc = r.receive(black_box(&bytes)).unwrap();
                let mut n = 0usize;
                for p in acc.parts() {
                    if let Part::Modifier(m) = &p {
                        n += m.value.len();
                    }
                    black_box(&p);
                }
                n
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("parse/assemble");
    g.throughput(Throughput::Elements(1));
    for (name, m) in &samples {
        let bytes = m
            .to_delivery(DeliveryHeader::default())
            .unwrap()
            .to_message();
        let mut a = Assembler::default();
        g.bench_function(*name, |b| b.iter(|| a.push(black_box(&bytes)).unwrap()));
    }
    g.finish();

    let mut g = c.benchmark_group("render");
    g.throughput(Throughput::Elements(1));
    for (name, m) in &samples {
        let mut out = Vec::with_capacity(1024);
        g.bench_function(*name, |b| {
            b.iter(|| {
                out.clear();
                black_box(m).render_parts(&mut out).unwrap();
                out.len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
