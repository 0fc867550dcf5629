//! Who holds a task, and whether that holder is provably dead.
//!
//! An owner is `host:boot:pidns:pid:tag`: the host name, this boot of its
//! kernel, its PID namespace, its pid, and a random tag. A lease runs out
//! on its own (a dead worker on another machine is only known by its
//! silence), but a process in our own PID namespace on this boot can be
//! seen to be gone at once, and one from an earlier boot is gone for sure.

use std::sync::OnceLock;

/// This process's name in the `owner` column.
pub fn this_process() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let here = Here::get();
        format!("{}:{}:{}:{}:{:08x}", here.host, here.boot, here.pidns, std::process::id(), fastrand::u32(..))
    })
}

/// The owner name of the process `pid` of our PID namespace, tagged `tag`
/// (for tests and tools that stage a dead worker's tasks).
pub fn local(pid: u32, tag: &str) -> String {
    let h = Here::get();
    format!("{}:{}:{}:{pid}:{tag}", h.host, h.boot, h.pidns)
}

/// Whether the process named `owner` is certainly gone. Anything we cannot
/// be sure of (another host, another PID namespace, a pid now used by a
/// live process) is left to its lease.
pub fn provably_dead(owner: &str) -> bool {
    let parts: Vec<&str> = owner.rsplitn(5, ':').collect();
    let [tag, pid, pidns, boot, host] = parts[..] else { return false };
    let Ok(pid) = pid.parse::<u32>() else { return false };
    let here = Here::get();
    if host != here.host || here.boot.is_empty() {
        return false;
    }
    if boot != here.boot {
        return true; // the machine has rebooted since
    }
    if pidns != here.pidns || here.pidns.is_empty() {
        return false; // another container: its pids are not ours to look up
    }
    if pid == std::process::id() {
        return !this_process().ends_with(&format!(":{tag}"));
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesised name.
        Ok(stat) => {
            matches!(stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().chars().next()), Some(Some('Z' | 'X')))
        }
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Where this process runs. Empty `boot` or `pidns` (no /proc): nobody
/// can be proved dead, leases decide.
struct Here {
    host: String,
    boot: String,
    pidns: String,
}

impl Here {
    fn get() -> &'static Here {
        static HERE: OnceLock<Here> = OnceLock::new();
        HERE.get_or_init(|| {
            let read = |p: &str| std::fs::read_to_string(p).map(|s| s.trim().to_string()).unwrap_or_default();
            // PRICEQUEUE_HOSTNAME names the host instead (undocumented: for
            // tests that play several hosts on one machine).
            let host = std::env::var("PRICEQUEUE_HOSTNAME")
                .ok()
                .filter(|h| !h.is_empty())
                .or_else(|| Some(read("/proc/sys/kernel/hostname")))
                .filter(|h| !h.is_empty())
                .or_else(|| Some(read("/etc/hostname")).filter(|h| !h.is_empty()))
                .unwrap_or_else(|| "localhost".into())
                .replace(':', "_");
            let boot: String = read("/proc/sys/kernel/random/boot_id").chars().filter(|c| *c != '-').take(12).collect();
            // "pid:[4026531836]" -> "4026531836"
            let pidns = std::fs::read_link("/proc/self/ns/pid")
                .map(|l| l.to_string_lossy().chars().filter(char::is_ascii_digit).collect())
                .unwrap_or_default();
            Here { host, boot, pidns }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_living_and_the_dead() {
        assert!(!provably_dead(this_process()), "we are alive");
        // Our pid with another tag: an earlier process that had our pid.
        assert!(provably_dead(&local(std::process::id(), "deadbeef")));
        // pid 1 is alive on any Linux machine.
        assert!(!provably_dead(&local(1, "00000000")));
        // A child that has exited and been reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(provably_dead(&local(pid, "00000000")));
        let h = Here::get();
        // An earlier boot of this machine: gone, whatever its pid.
        assert!(provably_dead(&format!("{}:000000000000:{}:1:00000000", h.host, h.pidns)));
        // Another PID namespace, another host, or a name we cannot read: only the lease can tell.
        assert!(!provably_dead(&format!("{}:{}:1:{pid}:00000000", h.host, h.boot)));
        assert!(!provably_dead(&format!("elsewhere:{}:{}:{pid}:00000000", h.boot, h.pidns)));
        assert!(!provably_dead("garbage"));
    }
}
