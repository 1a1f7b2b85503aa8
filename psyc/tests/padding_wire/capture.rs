//! A loopback sniffer, as an outside observer of the link between two peers sees it: a raw
//! `AF_PACKET` socket on `lo` (needs `CAP_NET_RAW`), each TCP segment of the peers' transport
//! connections with its payload, and the GNUnet messages an observer reads off each TCP
//! stream (their 4-byte headers travel in clear: the transport frames CORE's encrypted
//! messages, whose header is not encrypted).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sys::socket::{
    recvfrom, setsockopt, socket, sockopt, AddressFamily, LinkAddr, SockFlag, SockProtocol,
    SockType,
};
use nix::sys::time::TimeVal;

/// `PACKET_OUTGOING`: on `lo` every packet is seen twice (sent and received); only the sent
/// copy is kept.
const PACKET_OUTGOING: u8 = 4;
/// Ethernet header of `lo` frames (all zero addresses).
const ETH_HEADER: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const IPPROTO_TCP: u8 = 6;

/// One TCP segment with payload between the watched ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Source and destination port.
    pub src: u16,
    pub dst: u16,
    /// TCP payload bytes.
    pub len: usize,
    /// The payload.
    pub payload: Vec<u8>,
}

/// One GNUnet message read off a TCP stream: its size, and the index (in capture order) of
/// the segment that carried its last byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamMessage {
    pub size: usize,
    pub done_at: usize,
}

/// Whether `payload` is a whole number of GNUnet messages (a place to start reading).
fn whole_messages(payload: &[u8]) -> bool {
    let mut at = 0;
    while at < payload.len() {
        let Some(h) = payload.get(at..at + 2) else {
            return false;
        };
        let size = usize::from(u16::from_be_bytes([h[0], h[1]]));
        if size < 4 {
            return false;
        }
        at += size;
    }
    at == payload.len()
}

/// The GNUnet messages of every TCP stream in `segments` (one stream per direction of a
/// connection), each flow read from its first segment that starts and ends on message
/// boundaries. `Err` if a stream stops making sense (a size below 4).
pub fn stream_messages(segments: &[Segment]) -> Result<Vec<StreamMessage>, String> {
    use std::collections::BTreeMap;
    // Per flow: the bytes of the message being read.
    let mut flows: BTreeMap<(u16, u16), Vec<u8>> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        let flow = (s.src, s.dst);
        let buf = match flows.get_mut(&flow) {
            Some(buf) => buf,
            None if whole_messages(&s.payload) => flows.entry(flow).or_default(),
            None => continue,
        };
        buf.extend_from_slice(&s.payload);
        while let Some(h) = buf.get(..2) {
            let size = usize::from(u16::from_be_bytes([h[0], h[1]]));
            if size < 4 {
                return Err(format!("flow {flow:?}: message size {size} at segment {i}"));
            }
            if buf.len() < size {
                break;
            }
            buf.drain(..size);
            out.push(StreamMessage { size, done_at: i });
        }
    }
    Ok(out)
}

/// A running capture of the TCP segments with payload to or from `ports`.
pub struct Capture {
    segments: Arc<Mutex<Vec<Segment>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Capture {
    /// Starts capturing; `Err` says why it cannot (no `CAP_NET_RAW`, no `lo`).
    pub fn start(ports: Vec<u16>) -> Result<Capture, String> {
        let fd = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::EthAll,
        )
        .map_err(|e| format!("raw packet socket: {e} (needs root / CAP_NET_RAW)"))?;
        let lo = nix::net::if_::if_nametoindex("lo").map_err(|e| format!("no lo: {e}"))? as usize;
        setsockopt(&fd, sockopt::ReceiveTimeout, &TimeVal::new(0, 100_000))
            .map_err(|e| format!("SO_RCVTIMEO: {e}"))?;
        // Large messages arrive in bursts; a small buffer would drop segments.
        let _ = setsockopt(&fd, sockopt::RcvBufForce, &(64 << 20));
        let segments = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seg, halt) = (segments.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            use std::os::fd::AsRawFd;
            let mut buf = vec![0u8; 1 << 18];
            while !halt.load(Ordering::Relaxed) {
                let Ok((n, Some(from))) = recvfrom::<LinkAddr>(fd.as_raw_fd(), &mut buf) else {
                    continue;
                };
                if from.ifindex() != lo || from.pkttype() != PACKET_OUTGOING {
                    continue;
                }
                if let Some(s) = parse(&buf[..n.min(buf.len())]) {
                    if ports.contains(&s.src) || ports.contains(&s.dst) {
                        seg.lock().unwrap().push(s);
                    }
                }
            }
        });
        Ok(Capture {
            segments,
            stop,
            thread: Some(thread),
        })
    }

    /// How many segments were captured so far (a mark to slice by).
    pub fn mark(&self) -> usize {
        // Segments of what was just sent may still be on their way to the socket.
        std::thread::sleep(Duration::from_millis(150));
        self.segments.lock().unwrap().len()
    }

    /// The segments captured between two marks.
    pub fn between(&self, from: usize, to: usize) -> Vec<Segment> {
        self.segments.lock().unwrap()[from..to].to_vec()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The TCP segment in an `lo` frame (IPv4), if it has payload.
fn parse(frame: &[u8]) -> Option<Segment> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    if ethertype != ETHERTYPE_IPV4 {
        return None;
    }
    let ip = frame.get(ETH_HEADER..)?;
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
    if *ip.get(9)? != IPPROTO_TCP {
        return None;
    }
    let tcp = ip.get(ihl..)?;
    let src = u16::from_be_bytes([*tcp.first()?, *tcp.get(1)?]);
    let dst = u16::from_be_bytes([*tcp.get(2)?, *tcp.get(3)?]);
    let data_offset = usize::from(tcp.get(12)? >> 4) * 4;
    let len = total.checked_sub(ihl + data_offset)?;
    let payload = tcp.get(data_offset..data_offset + len)?.to_vec();
    (len > 0).then_some(Segment {
        src,
        dst,
        len,
        payload,
    })
}

#[test]
fn parses_a_loopback_tcp_frame() {
    let mut f = vec![0u8; 14];
    f[12..14].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    let mut ip = vec![0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(20u16 + 32 + 7).to_be_bytes());
    ip[9] = IPPROTO_TCP;
    let mut tcp = vec![0u8; 32];
    tcp[0..2].copy_from_slice(&2086u16.to_be_bytes());
    tcp[2..4].copy_from_slice(&40000u16.to_be_bytes());
    tcp[12] = 8 << 4;
    f.extend(ip);
    f.extend(tcp);
    f.extend([1; 7]);
    assert_eq!(
        parse(&f),
        Some(Segment {
            src: 2086,
            dst: 40000,
            len: 7,
            payload: vec![1; 7],
        })
    );
    f[23] = 17; // UDP
    assert_eq!(parse(&f), None);
}

#[test]
fn streams_are_read_as_messages_across_segments() {
    let seg = |src, payload: Vec<u8>| Segment {
        src,
        dst: 1,
        len: payload.len(),
        payload,
    };
    let msg = |size: u16| {
        let mut m = size.to_be_bytes().to_vec();
        m.resize(usize::from(size), 0);
        m
    };
    let big = msg(3000);
    let segments = vec![
        seg(7, big[100..].to_vec()), // mid-message: skipped until a boundary
        seg(7, [msg(8), msg(12)].concat()),
        seg(9, msg(20)),
        seg(7, big[..1000].to_vec()),
        seg(7, [&big[1000..], &msg(5)[..]].concat()),
    ];
    let got: Vec<(usize, usize)> = stream_messages(&segments)
        .unwrap()
        .into_iter()
        .map(|m| (m.size, m.done_at))
        .collect();
    assert_eq!(got, vec![(8, 1), (12, 1), (20, 2), (3000, 4), (5, 4)]);
}
