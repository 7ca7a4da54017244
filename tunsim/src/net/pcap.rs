// SPDX-License-Identifier: BSD-2-Clause
//! Captures: a bpf listener that keeps what the driver taps and writes it as a pcap file
//! with link type `DLT_NULL` (the 4-byte host-order address family the driver prepends is
//! exactly the `DLT_NULL` header, so Wireshark and tshark decode "Null/Loopback" + IPv4).

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kmock::bsd::bpf::{BpfListener, DLT_NULL};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::DataLink;

/// A bpf listener that records every tapped packet with its time.
#[derive(Debug, Default)]
pub struct PcapCapture {
    packets: Mutex<Vec<(Duration, Vec<u8>)>>,
}

impl BpfListener for PcapCapture {
    fn tap(&self, dlt: u32, packet: &[u8]) {
        if dlt != DLT_NULL {
            return;
        }
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.lock().push((ts, packet.to_vec()));
    }
}

impl PcapCapture {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Duration, Vec<u8>)>> {
        self.packets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The captured packets (DLT_NULL header included), in tap order.
    pub fn packets(&self) -> Vec<Vec<u8>> {
        self.lock().iter().map(|(_, p)| p.clone()).collect()
    }

    /// Number of packets captured.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Writes the capture to `path` as a pcap file (link type `DLT_NULL`).
    pub fn write_file(&self, path: &Path) -> Result<usize, String> {
        let f = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let header = PcapHeader {
            datalink: DataLink::NULL,
            snaplen: 65535,
            ..PcapHeader::default()
        };
        let mut w = PcapWriter::with_header(std::io::BufWriter::new(f), header)
            .map_err(|e| format!("pcap: {e}"))?;
        let ps = self.lock();
        for (ts, p) in ps.iter() {
            w.write_packet(&PcapPacket::new(*ts, p.len() as u32, p))
                .map_err(|e| format!("pcap: {e}"))?;
        }
        use std::io::Write as _;
        w.into_writer()
            .flush()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(ps.len())
    }
}

/// Reads a pcap file back: its link type and its packets.
pub fn read_file(path: &Path) -> Result<(DataLink, Vec<Vec<u8>>), String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut r = PcapReader::new(std::io::BufReader::new(f)).map_err(|e| format!("pcap: {e}"))?;
    let dl = r.header().datalink;
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.map_err(|e| format!("pcap: {e}"))?;
        out.push(p.data.into_owned());
    }
    Ok((dl, out))
}

/// The `DLT_NULL` header for an IPv4 packet: `AF_INET` as a host-order 32-bit word.
pub fn null_header() -> [u8; 4] {
    2u32.to_ne_bytes()
}
