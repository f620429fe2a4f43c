//! The progress bar of `tdsl run`, with stderr on a pseudo-terminal and stdout
//! a pipe: it shows the step, the epoch, the steps per second and the latest
//! scalar fetches on stderr, and nothing of it reaches stdout. (With stderr not
//! a terminal there is no bar: `tests/logs.rs`.)

mod support;

#[cfg(target_os = "linux")]
mod terminal {
    use std::io::Read;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::sync::mpsc::channel;
    use std::time::{Duration, Instant};

    /// The tiny classifier for many epochs: its bar shows `epoch k/E`.
    fn program() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("programs/tiny_classifier.td")
    }

    /// Runs `tdsl run ARGS` with stderr on a new pseudo-terminal until
    /// `patterns` all appear there (then stops it): what stderr showed, and
    /// stdout. `None` where no pseudo-terminal can be had.
    fn watch(args: &[&str], patterns: &[&str]) -> Option<(String, String)> {
        let (master, slave) = super::support::open_pty(160)?;
        let mut child = Command::new(env!("CARGO_BIN_EXE_tdsl"))
            .args(args)
            .env("TERM", "xterm")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(slave))
            .spawn()
            .expect("the tdsl binary runs");
        let (tx, rx) = channel();
        let mut reader = master;
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut seen = String::new();
        while !patterns.iter().all(|p| seen.contains(p)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("timed out waiting for {patterns:?}; stderr showed:\n{seen}");
                }
            }
        }
        let _ = child.kill();
        let out = child.wait_with_output().expect("tdsl ends");
        Some((seen, String::from_utf8_lossy(&out.stdout).into_owned()))
    }

    #[test]
    fn the_bar_shows_step_epoch_rate_and_scalars_on_stderr_only() {
        let program = program();
        let file = program.to_str().unwrap();
        let args = [
            "run",
            file,
            "--fetch",
            "train_step,loss",
            "--epochs",
            "1000000",
        ];
        // 3 steps an epoch: 3000000 steps; the message is renewed every 0.2 s.
        let patterns = [
            "step ", "/3000000", "epoch ", "/1000000", "steps/s", "loss=",
        ];
        let Some((stderr, stdout)) = watch(&args, &patterns) else {
            return;
        };
        assert!(!stderr.contains("error"), "{stderr}");
        // Nothing is printed before the last epoch; the bar never reaches stdout.
        assert!(stdout.is_empty(), "{stdout}");
    }
}
