//! `gnunet-social`: interact with the social service — enter and leave places, send and
//! receive messages, read history and state (see `gnunet-social.1` and [`social::cli`]).
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(social::cli::main(std::env::args_os().skip(1)))
}
