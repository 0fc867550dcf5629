//! What this user may do with a database file and the files SQLite keeps
//! beside it (`-wal`, `-shm`): read it, write it, make them. Asked of the
//! filesystem by opening, never read off the mode bits (root reads and
//! writes where they say no), and said naming what is wrong: the file not
//! readable, the file not writable, a file beside it, its directory, or a
//! read-only filesystem. A file's mode is never called a filesystem.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::super::error::{ErrorKind, StoreError};

/// Why a database cannot be written here, or read in the usual way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unwritable {
    /// It is on a filesystem mounted read-only.
    Filesystem,
    /// The file's mode or owner lets this user read it, not write it.
    File,
    /// A file beside it (`prices.db-wal`, `prices.db-shm`) is there and not writable to this user.
    Beside(PathBuf),
    /// Its directory, where SQLite makes the files beside it, is not writable to this user.
    Directory(PathBuf),
}

impl Unwritable {
    /// Why the database at `path` cannot be written, once SQLite could
    /// not: the filesystem, then (if `file_too`) the file itself, then the
    /// files beside it; with nothing else left, its directory. `None` when
    /// the file is not there.
    pub fn of(path: &Path, file_too: bool) -> Option<Unwritable> {
        match write_error(path) {
            Some(std::io::ErrorKind::NotFound) => return None,
            Some(std::io::ErrorKind::ReadOnlyFilesystem) => return Some(Unwritable::Filesystem),
            Some(std::io::ErrorKind::PermissionDenied) if file_too => return Some(Unwritable::File),
            _ => {}
        }
        let mut missing = false;
        for side in beside(path) {
            match write_error(&side) {
                Some(std::io::ErrorKind::NotFound) => missing = true,
                Some(std::io::ErrorKind::PermissionDenied) => return Some(Unwritable::Beside(side)),
                Some(std::io::ErrorKind::ReadOnlyFilesystem) => return Some(Unwritable::Filesystem),
                _ => {}
            }
        }
        missing.then(|| Unwritable::Directory(directory(path)))
    }

    /// What is wrong, after the database's name: "is not writable to you (mode ...)".
    pub fn describe(&self, path: &Path) -> String {
        match self {
            Unwritable::Filesystem => "is on a read-only filesystem".to_string(),
            Unwritable::File => format!("is not writable to you ({})", mode(path)),
            Unwritable::Beside(side) => {
                format!("has {} beside it, which is not writable to you ({})", side.display(), mode(side))
            }
            Unwritable::Directory(dir) => format!(
                "is in {}, a directory not writable to you ({}), where SQLite makes its -wal and -shm files",
                dir.display(),
                mode(dir)
            ),
        }
    }

    /// What to do about it, to write to the database.
    fn remedy(&self) -> &'static str {
        match self {
            Unwritable::Filesystem => "copy it somewhere writable to fetch into it",
            Unwritable::File | Unwritable::Beside(_) => {
                "ask its owner for write access (chmod, chown), or copy it somewhere you can write"
            }
            Unwritable::Directory(_) => {
                "ask for write access to the directory, or copy the database somewhere you can write"
            }
        }
    }

    /// The error of a command that writes (enqueue, fetch, work, retry,
    /// remove) on the database at `path`.
    pub fn error(&self, path: &Path) -> anyhow::Error {
        StoreError::new(
            ErrorKind::NoAccess,
            format!(
                "{} {}: commands that write (enqueue, fetch, work, retry, remove) cannot use it; query, status, \
                 coverage and sql can read it. To write to it, {}",
                path.display(),
                self.describe(path),
                self.remedy()
            ),
        )
        .into()
    }
}

/// Refuses a database file this user may not read: no command can use it,
/// and SQLite's own words ("unable to open database file") would blame
/// the directory.
pub fn check_readable(path: &Path) -> anyhow::Result<()> {
    match std::fs::File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(StoreError::new(
            ErrorKind::NoAccess,
            format!(
                "{} is not readable to you ({}): no command can use a database it cannot read. Ask its owner \
                 for read access (and write access, to fetch into it), or pass --db with another file",
                path.display(),
                mode(path)
            ),
        )
        .into()),
        _ => Ok(()),
    }
}

/// The refusal of the database at `path` to a command that writes, if
/// the file itself says no (its mode, a read-only filesystem): asked
/// before SQLite, which opens such a file read-only without a word and
/// fails at the first write.
pub fn check_writable(path: &Path) -> anyhow::Result<()> {
    match write_error(path) {
        Some(std::io::ErrorKind::ReadOnlyFilesystem) => Err(Unwritable::Filesystem.error(path)),
        Some(std::io::ErrorKind::PermissionDenied) => Err(Unwritable::File.error(path)),
        _ => Ok(()),
    }
}

/// How opening `path` for writing (not creating, not truncating) fails, if it does.
fn write_error(path: &Path) -> Option<std::io::ErrorKind> {
    std::fs::OpenOptions::new().write(true).open(path).err().map(|e| e.kind())
}

/// The files SQLite keeps beside a WAL database.
fn beside(path: &Path) -> [PathBuf; 2] {
    ["-wal", "-shm"].map(|suffix| {
        let mut name = path.as_os_str().to_os_string();
        name.push(suffix);
        PathBuf::from(name)
    })
}

/// The directory `path` is in, absolute where it can be.
pub fn directory(path: &Path) -> PathBuf {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// `path`'s mode as `ls -l` writes it, and its owner: what to show the
/// person who can change them.
fn mode(path: &Path) -> String {
    let Ok(meta) = std::fs::metadata(path) else { return "its mode unknown".to_string() };
    let bits = meta.permissions().mode();
    let rwx: String = (0..9)
        .map(|i| {
            let on = bits & (0o400 >> i) != 0;
            match (on, i % 3) {
                (false, _) => '-',
                (true, 0) => 'r',
                (true, 1) => 'w',
                _ => 'x',
            }
        })
        .collect();
    format!("mode {rwx}, owner uid {}", meta.uid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mode_reads_as_ls_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.db");
        std::fs::write(&file, b"").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(mode(&file).starts_with("mode rw-r-----, owner uid "), "{}", mode(&file));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o200)).unwrap();
        assert!(mode(&file).starts_with("mode -w-------"), "{}", mode(&file));
        let side = beside(Path::new("a/p.db"));
        assert_eq!(side, [PathBuf::from("a/p.db-wal"), PathBuf::from("a/p.db-shm")]);
    }
}
