//! `.npz` archives written field by field (a zip of stored or deflated `.npy`
//! members), so that any field can lie: wrong CRCs and sizes, huge declared
//! sizes, unsupported methods and flags, broken or zip64 end records, member
//! names that are not `.npy`, repeated, or hold `/` or `..`, truncation, and
//! zip bombs (a deflate stream that expands far beyond its declared size).

use crate::arrays;
use crate::rng::Rng;
use std::io::Write;

/// One member as its headers will say it.
#[derive(Clone)]
pub struct Entry {
    pub name: Vec<u8>,
    pub method: u16,
    pub flags: u16,
    pub crc: u32,
    /// (compressed, uncompressed) sizes in the local header and the central directory.
    pub local_sizes: (u32, u32),
    pub central_sizes: (u32, u32),
    /// The bytes after the local header.
    pub data: Vec<u8>,
}

impl Entry {
    /// A member holding `bytes` (deflated when `deflate`), every field right.
    pub fn new(name: &str, bytes: &[u8], deflate: bool) -> Entry {
        let mut crc = flate2::Crc::new();
        crc.update(bytes);
        let data = if deflate {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(bytes).expect("deflate into memory");
            e.finish().expect("deflate into memory")
        } else {
            bytes.to_vec()
        };
        let sizes = (data.len() as u32, bytes.len() as u32);
        Entry {
            name: name.as_bytes().to_vec(),
            method: if deflate { 8 } else { 0 },
            flags: 0,
            crc: crc.sum(),
            local_sizes: sizes,
            central_sizes: sizes,
            data,
        }
    }
}

/// The end records: what they declare, and whether to add zip64 ones.
#[derive(Clone, Default)]
pub struct End {
    /// Entries, central-directory size and offset, when they lie.
    pub entries: Option<u16>,
    pub cd_size: Option<u32>,
    pub cd_offset: Option<u32>,
    pub comment_len: u16,
    /// A zip64 end record declaring this many entries.
    pub zip64_entries: Option<u64>,
}

fn u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// The archive's bytes.
pub fn write(entries: &[Entry], end: &End) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for e in entries {
        offsets.push(out.len() as u32);
        u32le(&mut out, 0x0403_4b50);
        u16le(&mut out, 20);
        u16le(&mut out, e.flags);
        u16le(&mut out, e.method);
        u16le(&mut out, 0);
        u16le(&mut out, 0x21);
        u32le(&mut out, e.crc);
        u32le(&mut out, e.local_sizes.0);
        u32le(&mut out, e.local_sizes.1);
        u16le(&mut out, e.name.len() as u16);
        u16le(&mut out, 0);
        out.extend_from_slice(&e.name);
        out.extend_from_slice(&e.data);
    }
    let cd_start = out.len() as u32;
    for (e, &offset) in entries.iter().zip(&offsets) {
        u32le(&mut out, 0x0201_4b50);
        u16le(&mut out, 20);
        u16le(&mut out, 20);
        u16le(&mut out, e.flags);
        u16le(&mut out, e.method);
        u16le(&mut out, 0);
        u16le(&mut out, 0x21);
        u32le(&mut out, e.crc);
        u32le(&mut out, e.central_sizes.0);
        u32le(&mut out, e.central_sizes.1);
        u16le(&mut out, e.name.len() as u16);
        for _ in 0..4 {
            u16le(&mut out, 0);
        }
        u32le(&mut out, 0);
        u32le(&mut out, offset);
        out.extend_from_slice(&e.name);
    }
    let cd_size = out.len() as u32 - cd_start;
    if let Some(n) = end.zip64_entries {
        let record = out.len() as u64;
        u32le(&mut out, 0x0606_4b50);
        out.extend_from_slice(&44u64.to_le_bytes());
        u16le(&mut out, 45);
        u16le(&mut out, 45);
        u32le(&mut out, 0);
        u32le(&mut out, 0);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&u64::from(cd_size).to_le_bytes());
        out.extend_from_slice(&u64::from(cd_start).to_le_bytes());
        u32le(&mut out, 0x0706_4b50);
        u32le(&mut out, 0);
        out.extend_from_slice(&record.to_le_bytes());
        u32le(&mut out, 1);
    }
    let zip64 = end.zip64_entries.is_some();
    let count = end
        .entries
        .unwrap_or(if zip64 { 0xFFFF } else { entries.len() as u16 });
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, count);
    u16le(&mut out, count);
    let all = |v: u32| if zip64 { 0xFFFF_FFFF } else { v };
    u32le(&mut out, end.cd_size.unwrap_or(all(cd_size)));
    u32le(&mut out, end.cd_offset.unwrap_or(all(cd_start)));
    u16le(&mut out, end.comment_len);
    out
}

/// Bit writer for a hand-made deflate stream (LSB first).
struct Bits {
    out: Vec<u8>,
    bit: u32,
}

impl Bits {
    fn put(&mut self, value: u32, n: u32) {
        for i in 0..n {
            if self.bit == 0 {
                self.out.push(0);
            }
            if (value >> i) & 1 == 1 {
                *self.out.last_mut().expect("pushed above") |= 1 << self.bit;
            }
            self.bit = (self.bit + 1) % 8;
        }
    }

    /// A Huffman code: its most significant bit first.
    fn code(&mut self, code: u32, n: u32) {
        for i in (0..n).rev() {
            self.put((code >> i) & 1, 1);
        }
    }

    fn literal(&mut self, b: u8) {
        if b < 144 {
            self.code(0x30 + u32::from(b), 8);
        } else {
            self.code(0x190 + u32::from(b) - 144, 9);
        }
    }
}

/// A deflate stream of `prefix` then `zeros` zero bytes, in one fixed-Huffman
/// block of 258-byte matches (13 bits each: about 1/160 of the output), fast
/// to write for any size: the zip bomb's payload.
pub fn deflate_zeros(prefix: &[u8], zeros: u64) -> Vec<u8> {
    let mut w = Bits {
        out: Vec::new(),
        bit: 0,
    };
    w.put(1, 1);
    w.put(1, 2);
    for &b in prefix {
        w.literal(b);
    }
    let mut left = zeros;
    if left > 0 {
        w.literal(0);
        left -= 1;
    }
    while left >= 258 {
        w.code(0xC5, 8); // length 258 (code 285)
        w.code(0, 5); // distance 1
        left -= 258;
    }
    for _ in 0..left {
        w.literal(0);
    }
    w.code(0, 7); // end of block
    w.out
}

/// An `.npy` header (no data) declaring `shape` of `u1`: a bomb's prefix.
fn header_only(shape: &[usize]) -> Vec<u8> {
    arrays::npy("u1", true, false, shape, &[])
}

/// A zip bomb member named `name`: a `u1` array whose header declares `rows`
/// values (a `[rows]` shape), the zip declaring `declared` bytes (`None`: the
/// size that fits the header), and a stream expanding to `expands` zero bytes
/// after the header.
pub fn bomb(name: &str, rows: usize, declared: Option<u32>, expands: u64) -> Entry {
    let header = header_only(&[rows]);
    let data = deflate_zeros(&header, expands);
    let declared = declared.unwrap_or((header.len() + rows) as u32);
    let mut crc = flate2::Crc::new();
    crc.update(&header);
    if expands == rows as u64 {
        // All the data is there: the CRC is right too (a valid member).
        let zeros = vec![0u8; 1 << 20];
        let mut left = expands as usize;
        while left > 0 {
            let n = left.min(zeros.len());
            crc.update(&zeros[..n]);
            left -= n;
        }
    }
    Entry {
        name: name.as_bytes().to_vec(),
        method: 8,
        flags: 0,
        crc: crc.sum(),
        local_sizes: (data.len() as u32, declared),
        central_sizes: (data.len() as u32, declared),
        data,
    }
}

/// A bomb of one of four kinds: declaring 4 values and expanding to 256 MiB
/// (refused while inflating); declaring 3e9 or 5e8 values that the stream
/// does not hold (refused by the memory limit before any allocation, or when
/// the data ends); or 2^26 zeros that are all there (a valid 256 MiB tensor).
pub fn any_bomb(rng: &mut Rng, name: &str) -> Entry {
    let h = header_only(&[4]).len() as u32;
    match rng.below(8) {
        0..=3 => bomb(name, 4, Some(h + 4), 1 << 28),
        4 => bomb(name, 4, Some(0xFFFF_FFFF), 1 << 24),
        5 => bomb(name, 3_000_000_000, None, 1 << 24),
        6 => bomb(name, 500_000_000, None, 1 << 24),
        _ => bomb(name, 1 << 26, None, 1 << 26),
    }
}

/// Names a member may have instead of `NAME.npy`.
const ODD_NAMES: &[&str] = &[
    "x",
    "x.txt",
    "",
    "/",
    "x.npy/",
    "../x.npy",
    "/tmp/x.npy",
    "a/x.npy",
    "./x.npy",
    "x.npy\0",
    "x.NPY",
    ".npy",
    "x.npy.npy",
    "é.npy",
    "x y.npy",
];

/// One lie in `entries` or `end`.
pub fn corrupt(rng: &mut Rng, entries: &mut Vec<Entry>, end: &mut End) {
    let n = entries.len();
    let i = rng.below(n.max(1));
    match (rng.below(14), entries.get_mut(i)) {
        (0, Some(e)) => e.crc ^= 1 << rng.below(32),
        (1, Some(e)) => {
            let huge = *rng.pick(&[0xFFFF_FFFF, 0xFFFF_FFFE, 0x8000_0000, 0, 1]);
            match rng.below(3) {
                0 => e.central_sizes.1 = huge,
                1 => e.local_sizes.1 = huge,
                _ => (e.local_sizes.1, e.central_sizes.1) = (huge, huge),
            }
        }
        (2, Some(e)) => {
            let d = rng.below(3) as u32;
            e.central_sizes.0 = e.central_sizes.0.wrapping_add(d).wrapping_sub(1);
            e.local_sizes.0 = e.central_sizes.0;
        }
        (3, Some(e)) => e.method = *rng.pick(&[1, 6, 9, 12, 14, 93, 95, 98, 99, 0xFFFF]),
        (4, Some(e)) => e.flags |= *rng.pick(&[1, 8, 0x40, 0x800, 0x2000]),
        (5, Some(e)) => e.name = rng.pick(ODD_NAMES).as_bytes().to_vec(),
        (6, Some(e)) => e.name = vec![0xFF, 0xFE, b'.', b'n', b'p', b'y'],
        (7, Some(_)) => {
            let copy = entries[i].clone();
            entries.push(copy);
        }
        (8, Some(e)) => {
            let cut = rng.below(e.data.len() + 1);
            e.data.truncate(cut);
        }
        (9, Some(e)) => {
            let len = e.data.len();
            if len > 0 {
                e.data[rng.below(len)] ^= 1 << rng.below(8);
            }
        }
        (10, _) => end.entries = Some(*rng.pick(&[0, 1, 2, 3, 0xFFFF])),
        (11, _) => end.cd_offset = Some(*rng.pick(&[0, 1, 0xFFFF_FFFF, 0x7FFF_FFFF])),
        (12, _) => end.cd_size = Some(*rng.pick(&[0, 1, 46, 0xFFFF_FFFF])),
        _ => end.zip64_entries = Some(*rng.pick(&[0, 1, 3, 1 << 40, u64::MAX])),
    }
}

/// The archive's bytes, then damaged as a whole: truncated, a byte flipped,
/// garbage before or after, a comment longer than the file.
pub fn damage(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    match rng.below(6) {
        0 => bytes.truncate(rng.below(bytes.len() + 1)),
        1 if !bytes.is_empty() => {
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
        }
        2 => bytes
            .splice(0..0, std::iter::repeat_n(0x50, 1 + rng.below(40)))
            .for_each(drop),
        3 => bytes.extend(std::iter::repeat_n(0u8, 1 + rng.below(40))),
        4 => {
            let len = bytes.len();
            if len >= 2 {
                bytes[len - 2] = 0xFF;
                bytes[len - 1] = 0xFF;
            }
        }
        _ => {}
    }
    bytes
}

#[test]
fn the_hand_made_deflate_stream_inflates_to_its_prefix_and_zeros() {
    use std::io::Read;
    let data = deflate_zeros(b"\x93NUMPY\xff", 100_003);
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(&data[..])
        .read_to_end(&mut out)
        .expect("a valid deflate stream");
    assert_eq!(&out[..7], b"\x93NUMPY\xff");
    assert_eq!(out.len(), 7 + 100_003);
    assert!(out[7..].iter().all(|&b| b == 0));
    assert!(data.len() < 1000, "{} bytes", data.len());
}

#[test]
fn a_written_archive_reads_back_with_the_zip_crate() {
    let x = arrays::npy(
        "f4",
        true,
        false,
        &[2],
        &[arrays::V::F(1.0), arrays::V::F(2.0)],
    );
    let entries = [
        Entry::new("x.npy", &x, false),
        Entry::new("y.npy", &x, true),
    ];
    let bytes = write(&entries, &End::default());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a valid zip");
    for name in ["x.npy", "y.npy"] {
        let mut member = archive.by_name(name).expect("the member is there");
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut member, &mut out).expect("it reads");
        assert_eq!(out, x);
    }
}
