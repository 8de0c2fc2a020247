// Differential check of Keel's X12 reader against node-x12 (an independent parser): for one file, the segments
// node-x12 reads and those `keel edi parse` reads must have the same tags and element values, in the same order.
// Usage: node node_x12_compare.js NODE_MODULES_DIR FILE KEEL_JSON_FILE
// Exit 0 equal, 1 different (the first difference printed), 3 node-x12 cannot read the file (not a failure:
// Keel is compared only where the independent parser can read).
const path = require('path');
const fs = require('fs');
const {X12Parser, X12FatInterchange} = require(path.join(process.argv[2], 'node-x12'));

const text = fs.readFileSync(process.argv[3], 'utf8');
let theirs = [];
try {
    const parsed = new X12Parser(true).parse(text);
    const interchanges = parsed instanceof X12FatInterchange ? parsed.interchanges : [parsed];
    const add = (s) => theirs.push([s.tag, s.elements.map((e) => e.value)]);
    for (const i of interchanges) {
        add(i.header);
        for (const g of i.functionalGroups) {
            add(g.header);
            for (const t of g.transactions) {
                add(t.header);
                for (const s of t.segments) add(s);
                add(t.trailer);
            }
            add(g.trailer);
        }
        add(i.trailer);
    }
} catch (e) {
    console.log(`node-x12 cannot read ${path.basename(process.argv[3])}: ${String(e.message || e).split('\n')[0]}`);
    process.exit(3);
}

const tree = JSON.parse(fs.readFileSync(process.argv[4], 'utf8'));
const ours = [];
const add = (s) => ours.push([s.id, s.elements]);
for (const i of tree.interchanges) {
    add(i.header);
    for (const g of i.groups) {
        add(g.header);
        for (const t of g.transaction_sets) {
            add(t.header);
            for (const s of t.segments) add(s);
            add(t.trailer);
        }
        add(g.trailer);
    }
    add(i.trailer);
}

// node-x12 rewrites numeric control numbers without their leading zeros (ISA13 000003438 -> 3438) and drops
// trailing empty elements: compare those as it does.
const controlNumbers = {
    ISA: [12],
    IEA: [1],
    GS: [5],
    GE: [1],
    ST: [1],
    SE: [1]
};
const normalize = (tag, elements) => {
    const out = elements.map(
        (v, i) => (controlNumbers[tag] || []).includes(i) && /^\d+$/.test(v.trim()) ? String(Number(v.trim())) : v);
    while (out.length && out[out.length - 1] === '') out.pop();
    return out;
};
const name = path.basename(process.argv[3]);
let note = '';
if (ours.length !== theirs.length) {
    // node-x12 stops after the first interchange(s) of some multi-interchange files (newline terminators): then
    // what it read must be exactly Keel's first interchanges.
    const endsInterchange = (list, n) => n > 0 && list[n - 1][0] === 'IEA';
    if (theirs.length < ours.length && endsInterchange(theirs, theirs.length) && endsInterchange(ours, theirs.length)) {
        note = ` (node-x12 read only the first ${theirs.filter((s) => s[0] === 'ISA').length} of ` +
            `${ours.filter((s) => s[0] === 'ISA').length} interchanges)`;
        ours.length = theirs.length;
    } else {
        console.log(`${name}: Keel read ${ours.length} segments, node-x12 ${theirs.length}`);
        process.exit(1);
    }
}
for (let n = 0; n < ours.length; n++) {
    const [ourTag, ourElements] = ours[n];
    const [theirTag, theirElements] = theirs[n];
    const a = JSON.stringify([ourTag, normalize(ourTag, ourElements)]);
    const b = JSON.stringify([theirTag, normalize(theirTag, theirElements)]);
    if (a !== b) {
        console.log(`${name}: segment ${n + 1} differs\n  keel:     ${a}\n  node-x12: ${b}`);
        process.exit(1);
    }
}
console.log(`${name}: ${ours.length} segments agree${note}`);
