//! Backup files on disk, written so that a file with the final name is always complete:
//! SQL → compression → (age encryption) → SHA-256 → `NAME.partial` → fsync → rename → fsync
//! the folder. The checksum is of the bytes on disk, so a copy can be checked without a key.
//!
//! A [`PendingFile`] that is dropped without [`PendingFile::finish`] (an error, a cancel, a
//! panic) removes its partial file; a crash leaves only a `.partial`, which never counts as a
//! backup and is cleaned up by the next start. Files and folders are private to their owner
//! (0600/0700): they hold every customer's data.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{io_error, Error, ErrorCode, Result};
use crate::paths::create_private_dir;
use crate::schedule::Compression;

/// The suffix of a file being written.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// The zstd level of backups: 3, zstd's own default (measured in BENCHMARKS.md).
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;

impl Compression {
    /// The file extension after `.sql`.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::Zstd => ".zst",
            Compression::Gzip => ".gz",
            Compression::None => "",
        }
    }
}

/// How many bytes are written between two background syncs.
const EARLY_SYNC_BYTES: u64 = 32 << 20;

/// Syncs the file to disk on a thread of its own while it is still being written, every
/// [`EARLY_SYNC_BYTES`]: the final fsync then has little left to write, where it used to write
/// the whole file with the CPU idle (the tail of every backup, seen in vmstat). The writer
/// never waits: a request while a sync runs is skipped. The first error is kept and returned
/// by [`EarlySync::finish`] (a failed fsync reports its error once per open file, so it must
/// not be lost on the background thread).
struct EarlySync {
    requests: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
    since_last: u64,
}

impl EarlySync {
    fn start(file: &File) -> io::Result<EarlySync> {
        let clone = file.try_clone()?;
        let (requests, asked) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("backup-sync".into())
            .spawn(move || {
                let mut first_error = None;
                for () in asked {
                    if first_error.is_none() {
                        first_error = clone.sync_data().err();
                    }
                }
                first_error.map_or(Ok(()), Err)
            })?;
        Ok(EarlySync {
            requests: Some(requests),
            thread: Some(thread),
            since_last: 0,
        })
    }

    /// Counts written bytes and asks for a sync when enough have gone by.
    fn wrote(&mut self, n: usize) {
        self.since_last += n as u64;
        if self.since_last >= EARLY_SYNC_BYTES {
            self.since_last = 0;
            if let Some(requests) = &self.requests {
                let _ = requests.try_send(());
            }
        }
    }

    /// Stops the thread and returns its first error.
    fn finish(&mut self) -> io::Result<()> {
        self.requests = None;
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the background sync thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for EarlySync {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// The size of one write to the file, and the alignment O_DIRECT needs for it.
const DISK_CHUNK: usize = 1 << 20;
const DIRECT_ALIGN: usize = 4096;

/// Writes the backup file in 1 MiB chunks, on Linux around the page cache (O_DIRECT) where
/// the filesystem allows it. Measured on the benchmark machine: copying 800 MB into the page
/// cache cost 2.1 s of kernel CPU, written with O_DIRECT 0.09 s (`dd`); that copy was a third
/// of an uncompressed backup's CPU, on a machine whose cores the database server shares. It
/// also keeps a backup from pushing the server's own files out of the cache. The last bytes
/// (less than one block) and every write on a filesystem that refuses O_DIRECT (tmpfs, some
/// network filesystems: `EINVAL`) go through a normal handle at the same offset.
struct DiskWriter {
    /// The normal handle: locked while written, used for the tail, fsynced at the end.
    plain: File,
    /// The same file opened with O_DIRECT, while the filesystem accepts it.
    direct: Option<File>,
    /// Bytes waiting for a chunk, in `buf[start..start + DISK_CHUNK]` (aligned).
    buf: Vec<u8>,
    start: usize,
    len: usize,
    /// Bytes written to the file so far (the offset of the next chunk).
    written: u64,
}

impl DiskWriter {
    fn new(plain: File, path: &Path, try_direct: bool) -> DiskWriter {
        let direct = if try_direct { open_direct(path) } else { None };
        let buf = vec![0u8; DISK_CHUNK + DIRECT_ALIGN];
        let start = buf.as_ptr().align_offset(DIRECT_ALIGN);
        DiskWriter {
            plain,
            direct,
            buf,
            start,
            len: 0,
            written: 0,
        }
    }

    /// Writes `range` of the chunk buffer at the current offset.
    fn write_out(&mut self, range: std::ops::Range<usize>) -> io::Result<()> {
        let data = &self.buf[self.start + range.start..self.start + range.end];
        #[cfg(target_os = "linux")]
        if let Some(direct) = &self.direct {
            use std::os::unix::fs::FileExt;
            if data.len().is_multiple_of(DIRECT_ALIGN) {
                match direct.write_all_at(data, self.written) {
                    Ok(()) => {
                        self.written += data.len() as u64;
                        return Ok(());
                    }
                    // The filesystem takes the flag at open but not the write: stay normal.
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) => self.direct = None,
                    Err(e) => return Err(e),
                }
            }
        }
        write_at(&self.plain, data, self.written)?;
        self.written += data.len() as u64;
        Ok(())
    }

    /// Writes what is left and returns the normal handle, to be synced.
    fn finish(mut self) -> io::Result<File> {
        let whole_blocks = self.len / DIRECT_ALIGN * DIRECT_ALIGN;
        self.write_out(0..whole_blocks)?;
        self.write_out(whole_blocks..self.len)?;
        Ok(self.plain)
    }

    /// Whether chunks still go around the page cache (for tests).
    #[cfg(test)]
    fn is_direct(&self) -> bool {
        self.direct.is_some()
    }
}

impl Write for DiskWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(DISK_CHUNK - self.len);
        let at = self.start + self.len;
        self.buf[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        if self.len == DISK_CHUNK {
            self.write_out(0..DISK_CHUNK)?;
            self.len = 0;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // Whole chunks only; `finish` writes the rest.
    }
}

/// Opens `path` with O_DIRECT when it lies on a local disk filesystem. Only those: on a
/// network filesystem (NFS, SMB) every O_DIRECT write would be a synchronous round trip to the
/// server, where the page cache writes behind.
#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let folder = path.parent()?.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let kind = filesystem_of(&mounts, &folder)?;
    if !matches!(kind.as_str(), "ext4" | "xfs" | "btrfs" | "f2fs") {
        return None;
    }
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .ok()
}

/// The filesystem type of the mount holding `folder`, from `/proc/self/mountinfo` text (the
/// longest mount point that contains it; `\040` and the like are escaped characters).
#[cfg(any(target_os = "linux", test))]
fn filesystem_of(mountinfo: &str, folder: &Path) -> Option<String> {
    let unescape = |s: &str| {
        s.replace("\\040", " ")
            .replace("\\011", "\t")
            .replace("\\012", "\n")
            .replace("\\134", "\\")
    };
    mountinfo
        .lines()
        .filter_map(|line| {
            let (fields, rest) = line.split_once(" - ")?;
            let mount_point = PathBuf::from(unescape(fields.split(' ').nth(4)?));
            let kind = rest.split(' ').next()?.to_owned();
            folder
                .starts_with(&mount_point)
                .then(|| (mount_point.as_os_str().len(), kind))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, kind)| kind)
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_path: &Path) -> Option<File> {
    None
}

#[cfg(unix)]
fn write_at(file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, data, offset)
}

#[cfg(not(unix))]
fn write_at(mut file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(data)
}

/// Hashes and counts the bytes that reach the file.
struct HashingFile {
    file: DiskWriter,
    hasher: Sha256,
    bytes: u64,
    sync: EarlySync,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        self.sync.wrote(n);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// What the compressor writes into: the file, or an age encryptor in front of it.
enum Sink {
    Plain(HashingFile),
    Age(age::stream::StreamWriter<HashingFile>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(f) => f.write(buf),
            Sink::Age(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(f) => f.flush(),
            Sink::Age(w) => w.flush(),
        }
    }
}

impl Sink {
    fn finish(self) -> io::Result<HashingFile> {
        match self {
            Sink::Plain(f) => Ok(f),
            Sink::Age(w) => w.finish(),
        }
    }
}

enum Encoder {
    Zstd(zstd::stream::write::Encoder<'static, Sink>),
    Gzip(flate2::write::GzEncoder<Sink>),
    None(Sink),
}

/// A backup file being written. Write uncompressed SQL into it.
pub struct PendingFile {
    encoder: Option<Encoder>,
    partial: PathBuf,
    final_path: PathBuf,
}

impl std::fmt::Debug for PendingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PendingFile({})", self.partial.display())
    }
}

/// A finished, durable backup file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedFile {
    pub path: PathBuf,
    pub filename: String,
    pub size: u64,
    pub sha256: String,
}

/// Opens a new file for writing with owner-only permissions; never overwrites.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Picks `stem.sql<ext>` in `dir`, or `stem_2.sql<ext>`, … when taken (also by a partial).
/// An encrypted backup ends in `.age` as well.
pub fn unique_name(dir: &Path, stem: &str, compression: Compression, encrypted: bool) -> String {
    let ext = format!(
        "{}{}",
        compression.extension(),
        if encrypted {
            crate::crypt::AGE_EXTENSION
        } else {
            ""
        }
    );
    (1..)
        .map(|n| {
            if n == 1 {
                format!("{stem}.sql{ext}")
            } else {
                format!("{stem}_{n}.sql{ext}")
            }
        })
        .find(|name| {
            !dir.join(name).exists() && !dir.join(format!("{name}{PARTIAL_SUFFIX}")).exists()
        })
        .expect("some name is free")
}

impl PendingFile {
    /// Creates `dir/filename.partial` (creating `dir` privately if needed), encrypted as asked.
    pub fn create(
        dir: &Path,
        filename: &str,
        compression: Compression,
        threads: u32,
        zstd_level: i32,
        encryption: &crate::crypt::Encryption,
    ) -> Result<PendingFile> {
        create_private_dir(dir)?;
        let final_path = dir.join(filename);
        let partial = dir.join(format!("{filename}{PARTIAL_SUFFIX}"));
        let file = create_private_file(&partial).map_err(|e| {
            io_error(
                e,
                &format!("cannot create the backup file in {}", dir.display()),
            )
        })?;
        // Locked while written: start-up recovery leaves a live run's partial alone (the run's
        // own lock file says so too, so a filesystem without locks is not an error).
        let _ = file.try_lock();
        let sync = EarlySync::start(&file).map_err(|e| io_error(e, "starting the backup file"))?;
        let file = HashingFile {
            file: DiskWriter::new(file, &partial, true),
            hasher: Sha256::new(),
            bytes: 0,
            sync,
        };
        let sink = match encryption {
            crate::crypt::Encryption::None => Sink::Plain(file),
            other => Sink::Age(crate::crypt::encrypting_writer(other, file)?),
        };
        let encoder = match compression {
            Compression::Zstd => {
                let mut enc = zstd::stream::write::Encoder::new(sink, zstd_level.clamp(1, 19))
                    .map_err(|e| io_error(e, "starting zstd"))?;
                // zstd's worker API even for one worker: it compresses whole jobs from a
                // contiguous buffer on its own thread; the single-thread stream (a ring buffer
                // matched in "extDict" mode) made a 2% larger file on the benchmark.
                if threads > 0 {
                    enc.multithread(threads)
                        .map_err(|e| io_error(e, "starting zstd"))?;
                    // 2 MiB jobs instead of 4 windows' worth: ~28 MB less memory, and on the
                    // benchmark even 1% smaller (BENCHMARKS.md).
                    enc.set_parameter(zstd::stream::raw::CParameter::JobSize(2 << 20))
                        .map_err(|e| io_error(e, "starting zstd"))?;
                }
                enc.include_checksum(true)
                    .map_err(|e| io_error(e, "starting zstd"))?;
                Encoder::Zstd(enc)
            }
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                sink,
                flate2::Compression::new(6),
            )),
            Compression::None => Encoder::None(sink),
        };
        Ok(PendingFile {
            encoder: Some(encoder),
            partial,
            final_path,
        })
    }

    /// The partial file's path (recorded in the history so a crash can be cleaned up).
    pub fn partial_path(&self) -> &Path {
        &self.partial
    }

    /// Completes compression, makes the file durable and gives it its final name.
    pub fn finish(mut self) -> Result<FinishedFile> {
        let encoder = self.encoder.take().expect("finish is called once");
        let sink = match encoder {
            Encoder::Zstd(enc) => enc.finish(),
            Encoder::Gzip(enc) => enc.finish(),
            Encoder::None(sink) => Ok(sink),
        }
        .and_then(Sink::finish)
        .map_err(|e| io_error(e, "finishing the backup file"))?;
        let HashingFile {
            file,
            hasher,
            bytes,
            mut sync,
        } = sink;
        let file = file
            .finish()
            .map_err(|e| io_error(e, "writing the backup file"))?;
        sync.finish()
            .and_then(|_| file.sync_all())
            .map_err(|e| io_error(e, "saving the backup file to disk"))?;
        drop(file);
        std::fs::rename(&self.partial, &self.final_path)
            .map_err(|e| io_error(e, "naming the backup file"))?;
        sync_dir(self.final_path.parent().unwrap_or(Path::new(".")));
        let sha256 = hex(&hasher.finalize());
        Ok(FinishedFile {
            filename: self
                .final_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: self.final_path.clone(),
            size: bytes,
            sha256,
        })
    }
}

impl Write for PendingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.encoder.as_mut() {
            Some(Encoder::Zstd(e)) => e.write(buf),
            Some(Encoder::Gzip(e)) => e.write(buf),
            Some(Encoder::None(e)) => e.write(buf),
            None => Err(io::Error::other("the backup file is closed")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self.encoder.as_mut() {
            Some(Encoder::Zstd(e)) => e.flush(),
            Some(Encoder::Gzip(e)) => e.flush(),
            Some(Encoder::None(e)) => e.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if self.encoder.is_some() {
            self.encoder = None;
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// Makes a rename durable (a no-op where folders cannot be opened).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// Whether a `.partial` file is still being written by a live process (it holds the lock).
pub fn partial_in_use(path: &Path) -> bool {
    match File::open(path) {
        Ok(file) => matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

/// SHA-256 by ring (BoringSSL's assembly, already in the tree through rustls). On a CPU
/// without SHA instructions it takes about half the time of the portable `sha2` crate (290
/// vs 530-620 ms per 100 MB, BENCHMARKS.md), and every byte of a backup file passes through
/// it: an uncompressed backup spends more CPU here than on reading and writing its rows.
#[derive(Clone)]
pub struct Sha256(ring::digest::Context);

impl std::fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sha256")
    }
}

impl Default for Sha256 {
    fn default() -> Self {
        Sha256(ring::digest::Context::new(&ring::digest::SHA256))
    }
}

impl Sha256 {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The 32-byte digest.
    pub fn finalize(self) -> [u8; 32] {
        let mut out = [0; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }

    /// The digest of `data` in one call.
    pub fn digest(data: &[u8]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(data);
        hasher.finalize()
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a whole file, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file =
        File::open(path).map_err(|e| io_error(e, &format!("cannot open {}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        use std::io::Read;
        let n = file
            .read(&mut buf)
            .map_err(|e| io_error(e, &format!("cannot read {}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Writes a small JSON file atomically and privately (the manifest beside a backup).
pub fn write_json_atomically(path: &Path, value: &impl Serialize) -> Result<()> {
    let partial = PathBuf::from(format!("{}{PARTIAL_SUFFIX}", path.display()));
    let text = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::new(ErrorCode::Io, format!("manifest: {e}")))?;
    let _ = std::fs::remove_file(&partial);
    let mut file =
        create_private_file(&partial).map_err(|e| io_error(e, "writing the manifest"))?;
    let written = file.write_all(&text).and_then(|_| file.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(io_error(e, "writing the manifest"));
    }
    std::fs::rename(&partial, path).map_err(|e| io_error(e, "naming the manifest"))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")));
    Ok(())
}

/// Opens an unencrypted backup (plain, gzip or zstd, told by its first bytes) for reading SQL.
pub fn open_sql_reader(path: &Path) -> Result<Box<dyn io::Read + Send>> {
    open_backup(path, &crate::crypt::Keys::none())
}

/// Opens a backup for reading SQL: decrypts an age file with `keys`, then decompresses (each
/// layer told by its first bytes).
pub fn open_backup(path: &Path, keys: &crate::crypt::Keys) -> Result<Box<dyn io::Read + Send>> {
    use std::io::BufRead;
    let file =
        File::open(path).map_err(|e| io_error(e, &format!("cannot open {}", path.display())))?;
    let mut outer = io::BufReader::with_capacity(1 << 20, file);
    let head = outer
        .fill_buf()
        .map_err(|e| io_error(e, "reading the backup"))?;
    let plain: Box<dyn io::Read + Send> = if head.starts_with(crate::crypt::AGE_MAGIC) {
        Box::new(crate::crypt::decrypting_reader(outer, keys)?)
    } else {
        Box::new(outer)
    };
    let mut inner = io::BufReader::with_capacity(1 << 20, plain);
    let magic = inner
        .fill_buf()
        .map_err(|e| crate::crypt::read_error(e, "reading the backup"))?;
    Ok(match magic {
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Box::new(
            zstd::stream::read::Decoder::with_buffer(inner).map_err(|e| io_error(e, "zstd"))?,
        ),
        [0x1f, 0x8b, ..] => Box::new(flate2::bufread::MultiGzDecoder::new(inner)),
        _ => Box::new(inner),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_gives_the_fips_180_digests_whole_or_fed_in_pieces() {
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "SHA-256 of \"abc\" should be FIPS 180-2's first example"
        );
        let message = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        let mut pieces = Sha256::new();
        for piece in message.chunks(5) {
            pieces.update(piece);
        }
        assert_eq!(
            hex(&pieces.finalize()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            "SHA-256 fed in 5-byte pieces should be FIPS 180-2's second example"
        );
    }

    /// Bytes that differ at every offset, so a chunk written at a wrong place shows.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4099) as u8).collect()
    }

    fn round_trip(try_direct: bool, len: usize) -> (bool, Vec<u8>) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("f.partial");
        let file = create_private_file(&path).expect("created");
        let mut writer = DiskWriter::new(file, &path, try_direct);
        let used_direct = writer.is_direct();
        let data = pattern(len);
        // Uneven pieces, as the compressor writes them.
        for piece in data.chunks(300_007) {
            writer.write_all(piece).expect("written");
        }
        writer
            .finish()
            .expect("finished")
            .sync_all()
            .expect("synced");
        (used_direct, std::fs::read(&path).expect("read back"))
    }

    #[test]
    fn the_filesystem_of_a_folder_is_its_longest_mount() {
        let mounts = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n\
                      35 22 0:31 / /tmp rw shared:2 - tmpfs tmpfs rw\n\
                      40 22 0:40 / /mnt/nas\\040share rw shared:3 - nfs4 nas:/b rw\n";
        let of = |p: &str| filesystem_of(mounts, Path::new(p));
        assert_eq!(
            of("/home/a/backups").as_deref(),
            Some("ext4"),
            "under / only"
        );
        assert_eq!(
            of("/tmp/x").as_deref(),
            Some("tmpfs"),
            "the longer mount point wins"
        );
        assert_eq!(
            of("/mnt/nas share/billora").as_deref(),
            Some("nfs4"),
            "an escaped space in a mount point is read back"
        );
        assert_eq!(
            of("/tmpfoo").as_deref(),
            Some("ext4"),
            "a mount point matches whole path components only"
        );
    }

    #[test]
    fn the_disk_writer_writes_every_byte_in_place_with_or_without_o_direct() {
        for try_direct in [true, false] {
            for len in [
                0,
                1,
                4095,
                4096,
                DISK_CHUNK,
                DISK_CHUNK + 1,
                3 * DISK_CHUNK + 12_345,
            ] {
                let (direct, read) = round_trip(try_direct, len);
                assert!(
                    read == pattern(len),
                    "the file holds exactly the {len} bytes written (O_DIRECT tried: {try_direct}, used: {direct})"
                );
            }
        }
    }
}
