//! `gnunet-social`, the command line tool of the social service (`social.md` §14): its
//! options ([`args`]), the keys and ego names they take ([`keys`]), what it prints
//! ([`output`], [`json`]) and the run itself ([`run`]). The binary only calls [`main`].
//!
//! Exit codes, as the C tool documents them: 0 done; 1 an error, a refusal or the 30 s
//! timeout; 2 an argument that is not UTF-8.

pub mod args;
pub mod json;
pub mod keys;
pub mod look_up;
pub mod output;
pub mod run;

use std::ffi::OsString;
use std::io::{stderr, stdout, Write};

use args::Command;
use output::Output;

/// Writes an error the way the tool reports them: `gnunet-social ERROR <text>` on stderr.
fn report(err: &mut impl Write, text: &str) {
    // Nothing sensible is left to do if stderr is gone.
    let _ = writeln!(err, "gnunet-social ERROR {text}");
}

/// Runs the tool on the arguments after the program name; returns the exit code.
pub fn main<I>(argv: I) -> u8
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let json = argv.iter().any(|a| a == "--json");
    let mut out = Output::new(stdout().lock(), stderr(), json);
    let args = match args::parse(argv) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Help) => {
            print!("{}", args::help_text());
            return 0;
        }
        Ok(Command::Version) => {
            println!("{}", gnunet_service::options::version_text("gnunet-social"));
            return 0;
        }
        Err(e) => {
            report(&mut stderr(), &e.message);
            let _ = out.error(&e.message);
            return e.exit_code;
        }
    };
    gnunet_service::logging::init("gnunet-social", args.log_level, args.log_file.as_deref());
    match run::run(&args, &mut out) {
        Ok(()) => 0,
        Err(e) => {
            let text = e.to_string();
            report(&mut stderr(), &text);
            let _ = out.error(&text);
            1
        }
    }
}
