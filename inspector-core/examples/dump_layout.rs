//! Print the DWARF layout of runtime types and constants of a Go executable:
//! `cargo run --example dump_layout -- EXE runtime.mspan runtime._PageShift ...`
use inspector_core::binary::DwarfIndex;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = std::fs::read(&args[0]).expect("read executable");
    let obj = object::File::parse(&*data).expect("parse ELF");
    let dw = DwarfIndex::load(&obj).expect("DWARF").expect("no DWARF");
    for name in &args[1..] {
        if let Some(l) = dw.struct_layout(name) {
            println!("{} size {}", l.name, l.size);
            for f in &l.fields {
                println!(
                    "  {:>6} {:<28} {:?} {}",
                    f.offset, f.name, f.size, f.type_name
                );
            }
        } else if let Some(v) = dw.constant(name) {
            println!("{name} = {v}");
        } else if let Some(a) = dw.variable_addr(name) {
            println!("var {name} @ {a:#x}");
        } else {
            println!("{name}: not found");
        }
    }
}
