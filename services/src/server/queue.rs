//! A connection's outgoing messages, bounded in bytes.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};

/// Most messages handed to one vectored write.
const MAX_IOVECS: usize = 64;

/// Outgoing whole messages of one connection, written in order.
#[derive(Debug, Default)]
pub struct SendQueue {
    messages: VecDeque<Vec<u8>>,
    /// Bytes of the front message already written.
    front_written: usize,
    bytes: usize,
}

impl SendQueue {
    /// Appends one complete message.
    pub fn push(&mut self, msg: Vec<u8>) {
        self.bytes += msg.len();
        self.messages.push_back(msg);
    }

    /// Bytes still to be written.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Writes as much as `out` takes; returns the number of bytes written. `WouldBlock` is not an
    /// error: it ends the call with what was written so far.
    pub fn write_to<W: Write>(&mut self, out: &mut W) -> io::Result<usize> {
        let mut total = 0;
        while !self.messages.is_empty() {
            let written = {
                let mut slices = Vec::with_capacity(MAX_IOVECS.min(self.messages.len()));
                for (i, m) in self.messages.iter().take(MAX_IOVECS).enumerate() {
                    let start = if i == 0 { self.front_written } else { 0 };
                    slices.push(IoSlice::new(&m[start..]));
                }
                match out.write_vectored(&slices) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            total += written;
            self.consume(written);
        }
        Ok(total)
    }

    fn consume(&mut self, mut n: usize) {
        self.bytes -= n;
        while n > 0 {
            let Some(front) = self.messages.front() else {
                break;
            };
            let left = front.len() - self.front_written;
            if n >= left {
                n -= left;
                self.messages.pop_front();
                self.front_written = 0;
            } else {
                self.front_written += n;
                n = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes at most `cap` bytes per call, then blocks.
    struct Trickle {
        got: Vec<u8>,
        cap: usize,
        calls: usize,
    }
    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.calls == 3 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.calls += 1;
            let n = buf.len().min(self.cap);
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn partial_writes_resume_in_order() {
        let mut q = SendQueue::default();
        q.push(vec![1, 2, 3]);
        q.push(vec![4, 5]);
        q.push(vec![6]);
        let mut w = Trickle {
            got: vec![],
            cap: 2,
            calls: 0,
        };
        assert_eq!(q.write_to(&mut w).unwrap(), 5);
        assert_eq!(q.bytes(), 1);
        w.calls = 0;
        assert_eq!(q.write_to(&mut w).unwrap(), 1);
        assert!(q.is_empty());
        assert_eq!(w.got, [1, 2, 3, 4, 5, 6]);
    }
}
