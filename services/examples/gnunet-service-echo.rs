//! A test-only service: answers every ECHO message with the same bytes. It exists to prove the
//! runtime under ARM (demand start via fd 3, stop on `gnunet-arm -e`) and its handling of bad
//! clients.

use std::process::ExitCode;

use gnunet_service::daemon::run_service;
use gnunet_service::server::{ConnId, Ctx, Handler, Verdict};
use gnunet_service::wire::RawMessage;

/// Message type of an echo request and its reply (unassigned in GNUnet).
const TYPE_ECHO: u16 = 65000;

struct Echo;

impl Handler for Echo {
    type Timer = ();

    fn message(&mut self, ctx: &mut Ctx<()>, conn: ConnId, msg: RawMessage) -> Verdict {
        if msg.msg_type() != TYPE_ECHO {
            return Verdict::unknown(&msg);
        }
        match ctx.send(conn, msg.into_bytes()) {
            Ok(()) => Verdict::Continue,
            Err(e) => Verdict::Drop(e.to_string()),
        }
    }
}

fn main() -> ExitCode {
    run_service(
        "echo",
        "Test service: echoes type-65000 messages.",
        |_env| Ok::<_, String>(Echo),
    )
}
