//! Framing throughput: encoding messages and splitting a byte stream back into messages.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gnunet_service::cadet::msg::LocalData;
use gnunet_service::wire::{Framer, Message};

fn inner(len: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.extend_from_slice(&1059u16.to_be_bytes());
    m.resize(len, 0xab);
    m
}

fn stream_of(len: usize, count: usize) -> Vec<u8> {
    let msg = LocalData {
        ccn: 7,
        pp: 0,
        payload: inner(len),
    }
    .to_message();
    msg.repeat(count)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("framing");
    for len in [16usize, 1024, 60_000] {
        let count = (4 * 1024 * 1024 / (len + 12)).max(1);
        let stream = stream_of(len, count);
        g.throughput(Throughput::Elements(count as u64));
        g.bench_with_input(
            BenchmarkId::new("encode_local_data", len),
            &len,
            |b, &len| {
                let data = LocalData {
                    ccn: 7,
                    pp: 0,
                    payload: inner(len),
                };
                b.iter(|| {
                    let mut total = 0;
                    for _ in 0..count {
                        total += black_box(black_box(&data).to_message()).len();
                    }
                    total
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("frame_and_decode", len),
            &stream,
            |b, s| {
                b.iter(|| {
                    let mut f = Framer::new();
                    let mut n = 0;
                    for chunk in s.chunks(64 * 1024) {
                        f.push(chunk);
                        while let Some(m) = f.next_message().unwrap() {
                            let d = LocalData::from_message(black_box(m.bytes())).unwrap();
                            n += black_box(d).payload.len();
                        }
                    }
                    n
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
