//! Ctrl-C for the demo: while the story runs it stops the peers' ARMs (so no GNUnet processes
//! are left behind) and exits 130; while the peers are kept up (`--wait`) it ends the wait, and
//! the demo stops the peers as usual.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The peers' config files, known once the network is up.
type Configs = Arc<Mutex<Vec<PathBuf>>>;

/// The signal watcher.
pub struct Interrupt {
    configs: Configs,
    waiting: Arc<AtomicBool>,
    signalled: Receiver<()>,
}

impl Interrupt {
    /// Catches SIGINT and SIGTERM (a handler, not a blocked mask: child processes inherit a
    /// mask, and GNUnet services started with SIGTERM blocked would not stop) and starts the
    /// thread that acts on them.
    pub fn install() -> Result<Self, std::io::Error> {
        let mut signals = Signals::new([SIGINT, SIGTERM])?;
        let configs: Configs = Arc::default();
        let waiting = Arc::new(AtomicBool::new(false));
        let (tx, signalled) = mpsc::channel();
        let (c, w) = (configs.clone(), waiting.clone());
        std::thread::spawn(move || {
            if signals.forever().next().is_none() {
                return;
            }
            if w.load(Ordering::SeqCst) {
                let _ = tx.send(());
                return;
            }
            eprintln!("\ninterrupted: stopping the peers");
            let configs = c.lock().map(|c| c.clone()).unwrap_or_default();
            for config in configs {
                let _ = Command::new("gnunet-arm")
                    .arg("-c")
                    .arg(config)
                    .args(["-e", "-q"])
                    .stdin(Stdio::null())
                    .status();
            }
            std::process::exit(130);
        });
        Ok(Self {
            configs,
            waiting,
            signalled,
        })
    }

    /// The peers to stop on Ctrl-C.
    pub fn peers(&self, configs: Vec<PathBuf>) {
        if let Ok(mut c) = self.configs.lock() {
            *c = configs;
        }
    }

    /// Waits for Ctrl-C (or SIGTERM).
    pub fn wait(&self) {
        self.waiting.store(true, Ordering::SeqCst);
        let _ = self.signalled.recv();
    }
}
