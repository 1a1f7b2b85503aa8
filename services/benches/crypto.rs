//! Cost of the signatures every multicast fragment and request carries, and of hashing.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gnunet_service::crypto::purpose::signed_block;
use gnunet_service::crypto::{ecdsa, eddsa, HashCode};

fn bench(c: &mut Criterion) {
    let block = signed_block(19, &[0x5a; 1024]).expect("block");
    let ed = eddsa::PrivateKey::from_bytes([7; 32]);
    let ed_pub = ed.public_key();
    let ed_sig = ed.sign(&block).expect("sign");
    let ec = ecdsa::PrivateKey::clamped([9; 32]);
    let ec_pub = ec.public_key();
    let ec_sig = ec.sign(&block).expect("sign");
    let mut g = c.benchmark_group("crypto_1k_block");
    g.bench_function("eddsa_sign", |b| b.iter(|| ed.sign(black_box(&block))));
    g.bench_function("eddsa_verify", |b| {
        b.iter(|| ed_pub.verify(19, black_box(&block), &ed_sig))
    });
    let ed_signer = eddsa::SigningKey::new(&ed);
    let ed_verifier = ed_pub.prepare().expect("valid key");
    g.bench_function("eddsa_sign_prepared", |b| {
        b.iter(|| ed_signer.sign(black_box(&block)))
    });
    g.bench_function("eddsa_verify_prepared", |b| {
        b.iter(|| ed_verifier.verify(19, black_box(&block), &ed_sig))
    });
    g.bench_function("ecdsa_sign", |b| b.iter(|| ec.sign(black_box(&block))));
    g.bench_function("ecdsa_verify", |b| {
        b.iter(|| ec_pub.verify(19, black_box(&block), &ec_sig))
    });
    g.bench_function("sha512", |b| b.iter(|| HashCode::of(black_box(&block))));
    g.finish();
    // A 32 KiB fragment: hashing dominates (signing hashes the block twice, checking once).
    let big = signed_block(19, &vec![0x5a; 32 * 1024]).expect("block");
    let big_sig = ed_signer.sign(&big).expect("sign");
    let mut g = c.benchmark_group("crypto_32k_block");
    g.throughput(criterion::Throughput::Bytes(big.len() as u64));
    g.bench_function("sha512", |b| b.iter(|| HashCode::of(black_box(&big))));
    g.bench_function("eddsa_sign_prepared", |b| {
        b.iter(|| ed_signer.sign(black_box(&big)))
    });
    g.bench_function("eddsa_verify_prepared", |b| {
        b.iter(|| ed_verifier.verify(19, black_box(&big), &big_sig))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
