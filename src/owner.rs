//! Who holds a task: `host:pid:tag`, and whether that holder is provably dead.
//!
//! A lease runs out on its own (a dead worker on another machine is only
//! known by its silence), but on the same host a dead process can be seen
//! at once, so its tasks need not wait for their lease.

use std::sync::OnceLock;

/// This process's name in the `owner` column: host, pid and a random tag,
/// so a later process that reuses the pid is still someone else.
pub fn this_process() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format!("{}:{}:{:08x}", hostname(), std::process::id(), fastrand::u32(..)))
}

/// Whether the process named `owner` is certainly gone: it ran on this
/// host, and either no process has its pid any more (or only a zombie),
/// or the pid is ours but the tag is not. Anything else is left to its lease.
pub fn provably_dead(owner: &str) -> bool {
    let mut parts = owner.rsplitn(3, ':');
    let (Some(tag), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if host != hostname() || !std::path::Path::new("/proc/self/stat").exists() {
        return false;
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

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_living_and_the_dead() {
        assert!(!provably_dead(this_process()), "we are alive");
        let host = hostname();
        // Our pid with another tag: an earlier process that had our pid.
        assert!(provably_dead(&format!("{host}:{}:deadbeef", std::process::id())));
        // pid 1 is alive on any Linux machine.
        assert!(!provably_dead(&format!("{host}:1:00000000")));
        // A child that has exited and been reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(provably_dead(&format!("{host}:{pid}:00000000")));
        // Another host, or a name we cannot read: only the lease can tell.
        assert!(!provably_dead(&format!("elsewhere:{pid}:00000000")));
        assert!(!provably_dead("garbage"));
    }
}
