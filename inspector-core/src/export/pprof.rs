//! pprof's `profile.proto` (github.com/google/pprof/proto/profile.proto), written with prost
//! derives (no protoc needed), and a [`ProfileBuilder`] that interns strings, functions and
//! locations and writes the gzipped form `go tool pprof` reads.

use std::collections::HashMap;
use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

#[derive(Clone, PartialEq, prost::Message)]
pub struct Profile {
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    #[prost(message, repeated, tag = "3")]
    pub mapping: Vec<Mapping>,
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    #[prost(int64, tag = "7")]
    pub drop_frames: i64,
    #[prost(int64, tag = "8")]
    pub keep_frames: i64,
    #[prost(int64, tag = "9")]
    pub time_nanos: i64,
    #[prost(int64, tag = "10")]
    pub duration_nanos: i64,
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    #[prost(int64, tag = "12")]
    pub period: i64,
    #[prost(int64, repeated, tag = "13")]
    pub comment: Vec<i64>,
    #[prost(int64, tag = "14")]
    pub default_sample_type: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueType {
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(int64, tag = "1")]
    pub key: i64,
    #[prost(int64, tag = "2")]
    pub str: i64,
    #[prost(int64, tag = "3")]
    pub num: i64,
    #[prost(int64, tag = "4")]
    pub num_unit: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Mapping {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(uint64, tag = "2")]
    pub memory_start: u64,
    #[prost(uint64, tag = "3")]
    pub memory_limit: u64,
    #[prost(uint64, tag = "4")]
    pub file_offset: u64,
    #[prost(int64, tag = "5")]
    pub filename: i64,
    #[prost(int64, tag = "6")]
    pub build_id: i64,
    #[prost(bool, tag = "7")]
    pub has_functions: bool,
    #[prost(bool, tag = "8")]
    pub has_filenames: bool,
    #[prost(bool, tag = "9")]
    pub has_line_numbers: bool,
    #[prost(bool, tag = "10")]
    pub has_inline_frames: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Location {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(uint64, tag = "2")]
    pub mapping_id: u64,
    #[prost(uint64, tag = "3")]
    pub address: u64,
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
    #[prost(bool, tag = "5")]
    pub is_folded: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Line {
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    #[prost(int64, tag = "2")]
    pub line: i64,
    #[prost(int64, tag = "3")]
    pub column: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Function {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(int64, tag = "2")]
    pub name: i64,
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    #[prost(int64, tag = "4")]
    pub filename: i64,
    #[prost(int64, tag = "5")]
    pub start_line: i64,
}

/// One source frame of a location: function, file, line. A location lists its frames
/// innermost first (inlined calls before their caller), as pprof expects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrameRef {
    pub func: String,
    pub file: String,
    pub line: i64,
    pub start_line: i64,
}

/// Builds a [`Profile`]: interns strings, functions and locations.
#[derive(Debug, Default)]
pub struct ProfileBuilder {
    profile: Profile,
    strings: HashMap<String, i64>,
    functions: HashMap<(String, String), u64>,
    locations: HashMap<u64, u64>,
    synthetic_locations: HashMap<Vec<FrameRef>, u64>,
}

impl ProfileBuilder {
    /// A profile with `sample_types` as (type, unit) pairs, e.g. ("goroutine", "count").
    /// The last sample type is pprof's default.
    pub fn new(sample_types: &[(&str, &str)]) -> ProfileBuilder {
        let mut b = ProfileBuilder::default();
        b.string("");
        for (t, u) in sample_types {
            let vt = ValueType {
                r#type: b.string(t),
                unit: b.string(u),
            };
            b.profile.sample_type.push(vt);
        }
        b
    }

    /// Index of `s` in the string table.
    pub fn string(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.strings.get(s) {
            return i;
        }
        let i = self.profile.string_table.len() as i64;
        self.profile.string_table.push(s.to_string());
        self.strings.insert(s.to_string(), i);
        i
    }

    pub fn set_period(&mut self, ty: &str, unit: &str, period: i64) {
        self.profile.period_type = Some(ValueType {
            r#type: self.string(ty),
            unit: self.string(unit),
        });
        self.profile.period = period;
    }

    pub fn set_time_nanos(&mut self, t: i64) {
        self.profile.time_nanos = t;
    }

    pub fn add_comment(&mut self, c: &str) {
        let i = self.string(c);
        self.profile.comment.push(i);
    }

    /// A mapping for the executable (id 1), so pprof can show the binary's name.
    pub fn add_main_mapping(&mut self, start: u64, limit: u64, filename: &str, build_id: &str) {
        let m = Mapping {
            id: 1,
            memory_start: start,
            memory_limit: limit,
            file_offset: 0,
            filename: self.string(filename),
            build_id: self.string(build_id),
            has_functions: true,
            has_filenames: true,
            has_line_numbers: true,
            has_inline_frames: true,
        };
        self.profile.mapping.push(m);
    }

    fn function(&mut self, name: &str, file: &str, start_line: i64) -> u64 {
        let key = (name.to_string(), file.to_string());
        if let Some(&id) = self.functions.get(&key) {
            return id;
        }
        let id = self.profile.function.len() as u64 + 1;
        let f = Function {
            id,
            name: self.string(name),
            system_name: self.string(name),
            filename: self.string(file),
            start_line,
        };
        self.profile.function.push(f);
        self.functions.insert(key, id);
        id
    }

    fn lines(&mut self, frames: &[FrameRef]) -> Vec<Line> {
        frames
            .iter()
            .map(|f| Line {
                function_id: self.function(&f.func, &f.file, f.start_line),
                line: f.line,
                column: 0,
            })
            .collect()
    }

    /// The location for program counter `pc` with its frames (innermost first).
    pub fn location(&mut self, pc: u64, frames: &[FrameRef]) -> u64 {
        if let Some(&id) = self.locations.get(&pc) {
            return id;
        }
        let id = self.profile.location.len() as u64 + 1;
        let line = self.lines(frames);
        let mapping_id = if self.profile.mapping.is_empty() {
            0
        } else {
            1
        };
        self.profile.location.push(Location {
            id,
            mapping_id,
            address: pc,
            line,
            is_folded: false,
        });
        self.locations.insert(pc, id);
        id
    }

    /// A location with no address (e.g. a type or root name in a reference path).
    pub fn synthetic_location(&mut self, frames: &[FrameRef]) -> u64 {
        if let Some(&id) = self.synthetic_locations.get(frames) {
            return id;
        }
        let id = self.profile.location.len() as u64 + 1;
        let line = self.lines(frames);
        self.profile.location.push(Location {
            id,
            mapping_id: 0,
            address: 0,
            line,
            is_folded: false,
        });
        self.synthetic_locations.insert(frames.to_vec(), id);
        id
    }

    /// Add a sample: location ids leaf first, one value per sample type, labels as
    /// (key, string value) and (key, number, unit).
    pub fn add_sample(
        &mut self,
        locations: Vec<u64>,
        values: Vec<i64>,
        str_labels: &[(&str, &str)],
        num_labels: &[(&str, i64, &str)],
    ) {
        let mut label = Vec::new();
        for (k, v) in str_labels {
            label.push(Label {
                key: self.string(k),
                str: self.string(v),
                num: 0,
                num_unit: 0,
            });
        }
        for (k, n, u) in num_labels {
            label.push(Label {
                key: self.string(k),
                str: 0,
                num: *n,
                num_unit: if u.is_empty() { 0 } else { self.string(u) },
            });
        }
        self.profile.sample.push(Sample {
            location_id: locations,
            value: values,
            label,
        });
    }

    pub fn finish(self) -> Profile {
        self.profile
    }
}

/// Encode and gzip a profile, as pprof stores it on disk (at gzip's fastest level, as
/// runtime/pprof writes it).
pub fn write_gzipped(profile: &Profile, out: &mut impl Write) -> std::io::Result<()> {
    use prost::Message;
    let mut gz = GzEncoder::new(out, Compression::fast());
    gz.write_all(&profile.encode_to_vec())?;
    gz.finish()?;
    Ok(())
}

/// Decode a gzipped or plain profile (for tests and round trips).
pub fn read_profile(data: &[u8]) -> Result<Profile, String> {
    use prost::Message;
    let raw = if data.starts_with(&[0x1f, 0x8b]) {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(data), &mut v)
            .map_err(|e| e.to_string())?;
        v
    } else {
        data.to_vec()
    };
    Profile::decode(&*raw).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_interns_and_decodes() {
        let mut b = ProfileBuilder::new(&[("goroutine", "count")]);
        let f = |func: &str, line| FrameRef {
            func: func.into(),
            file: "/x/main.go".into(),
            line,
            start_line: 1,
        };
        let l1 = b.location(0x401000, &[f("main.inner", 10), f("main.outer", 20)]);
        let l2 = b.location(0x401000, &[f("main.inner", 10)]);
        assert_eq!(l1, l2, "same pc, same location");
        let l3 = b.location(0x402000, &[f("main.outer", 21)]);
        b.add_sample(vec![l1, l3], vec![3], &[("state", "chan receive")], &[]);
        let p = b.finish();
        let mut buf = Vec::new();
        write_gzipped(&p, &mut buf).unwrap();
        let q = read_profile(&buf).unwrap();
        assert_eq!(p, q);
        assert_eq!(q.string_table[0], "");
        assert_eq!(q.function.len(), 2, "functions interned by name+file");
        assert_eq!(
            q.location[0].line.len(),
            2,
            "inlined frames kept in one location"
        );
        assert_eq!(q.sample[0].value, vec![3]);
    }
}
