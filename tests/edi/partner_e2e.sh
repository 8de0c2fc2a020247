#!/usr/bin/env bash
# End to end with a trading partner, through the keel command on a fresh SQLite database: an 850 dropped in the
# partner's inbound folder becomes an allocated order and a 997 comes back to the outbound folder; the allocated order
# is acknowledged with an 855, and shipping it writes an 856 and invoicing it an 810 there. Then a 3PL: an order
# released at its location goes out as a 940 to its outbound folder, and its 945 (tests/edi/data) dropped in its
# inbound folder ships the order, with a 997 back. Keel's validator (with its dictionaries) and node-x12 (an
# independent parser, installed from npm into a temporary folder) must both accept every file Keel wrote.
#   partner_e2e.sh KEEL_BINARY PLUGIN_DIR
set -euo pipefail
keel_bin=$1; plugins=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "partner_e2e: FAIL: $*" >&2; exit 1; }

mkdir -p "$work"/{partners,plugins.d,in,out,archive,error}
printf 'plugin = edi-x12\npartners = %s/partners\n' "$work" > "$work/plugins.d/edi.properties"
cat > "$work/partners/retailer.properties" <<PROFILE
isa.qualifier = ZZ
isa.id = RETAILER
our.isa.qualifier = ZZ
our.isa.id = KEELSELLER
customer = RETAILER
items = VN
transport.inbound = $work/in
transport.outbound = $work/out
transport.archive = $work/archive
transport.error = $work/error
PROFILE
keel() {
    "$keel_bin" --db "sqlite:$work/keel.db" -D plugins.directory="$plugins" -D plugins.instances="$work/plugins.d" \
        -D plugins.allow_unsigned=true -D edi.partners="$work/partners" -D edi.gs1.company_prefix=0614141 "$@"
}
printf 'sku,name\nWIDGET,Widget\nGADGET,Gadget\n' > "$work/items.csv"
printf 'code,name,country\nWH1,Main,US\n' > "$work/locations.csv"
printf 'channel,channel_sku,sku\nedi.retailer,A-1,WIDGET\nedi.retailer,B-2,GADGET\n' > "$work/aliases.csv"
keel db migrate >/dev/null
keel item import "$work/items.csv" >/dev/null
keel location import "$work/locations.csv" >/dev/null
keel alias import "$work/aliases.csv" >/dev/null
keel stock receive WIDGET WH1 10 >/dev/null
keel stock receive GADGET WH1 10 >/dev/null

# The partner writes its 850 under a temporary name and renames it when complete.
cat > "$work/in/po-777.edi.part" <<'X12'
ISA*00*          *00*          *ZZ*RETAILER       *ZZ*KEELSELLER     *261126*1200*U*00401*000000101*0*P*>~
GS*PO*RETAILER*KEELSELLER*20261126*1200*101*X*004010~
ST*850*0001~
BEG*00*SA*PO-777**20261126~
N1*ST*Store 12~
N3*1 Main St~
N4*Springfield*IL*62701*US~
PO1*1*2*EA*3.50**VN*A-1~
PO1*2*1*EA*10**VN*B-2~
CTT*2~
SE*9*0001~
GE*1*101~
IEA*1*000000101~
X12
keel edi poll --partner retailer | grep -q "no new files" || fail "a .part file was read before it was complete"
mv "$work/in/po-777.edi.part" "$work/in/po-777.edi"
keel --json edi poll --partner retailer > "$work/poll.json" || fail "poll: $(cat "$work/poll.json")"
order=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["received"][0]["orders"][0]["order_id"])' "$work/poll.json")
[ -f "$work/archive/po-777.edi" ] || fail "the 850 was not archived"
keel order allocate "$order" | grep -q "allocated (3 allocated, 0 backordered)" || fail "the order was not allocated"
shipment=$(keel --json shipment release "$order" | python3 -c 'import json,sys; print(json.load(sys.stdin)["shipments"][0])')
keel shipment pick "$shipment" >/dev/null
keel shipment pack "$shipment" --packages 1 >/dev/null
keel shipment confirm "$shipment" --carrier UPSN --tracking 1Z999AA10123456784 >/dev/null
keel edi send --partner retailer > "$work/send.txt" || fail "send: $(cat "$work/send.txt")"

ack=$(ls "$work"/out/ack-*.edi); po_ack=$(ls "$work"/out/855-*.edi); asn=$(ls "$work"/out/856-*.edi)
invoice=$(ls "$work"/out/810-*.edi)
grep -q "AK9\*A\*1\*1\*1" "$ack" || fail "the 997 does not accept the 850: $(cat "$ack")"

# The 3PL: it runs 3PL-EAST (preferred by routing), knows WIDGET and GADGET as A-1 and B-2, and has folders of its own.
mkdir -p "$work"/3pl/{in,out,archive,error}
cat > "$work/partners/3pl-east.properties" <<PROFILE
role = 3pl
isa.qualifier = ZZ
isa.id = 3PLEAST
our.isa.qualifier = ZZ
our.isa.id = KEELSELLER
locations = 3PL-EAST
warehouse.0614141000012 = 3PL-EAST
items = VN
transport.inbound = $work/3pl/in
transport.outbound = $work/3pl/out
transport.archive = $work/3pl/archive
transport.error = $work/3pl/error
PROFILE
printf 'code,name,type,priority,country\n3PL-EAST,East Fulfillment,3pl,1,US\n' > "$work/3pl-locations.csv"
printf 'channel,channel_sku,sku\nedi.3pl-east,A-1,WIDGET\nedi.3pl-east,B-2,GADGET\n' > "$work/3pl-aliases.csv"
keel location import "$work/3pl-locations.csv" >/dev/null
keel alias import "$work/3pl-aliases.csv" >/dev/null
keel stock receive WIDGET 3PL-EAST 10 >/dev/null
keel stock receive GADGET 3PL-EAST 10 >/dev/null
cat > "$work/web-order.json" <<'JSON'
{"type": "order", "version": 1, "channel": "web", "external_id": "W-3PL-1", "currency": "USD",
 "customer": {"email": "ann@example.com"}, "payment": {"status": "captured"},
 "ship_to": {"name": "Ann Lee", "line1": "1 Main St", "city": "Springfield", "region": "IL", "postal_code": "62701",
             "country": "US"},
 "lines": [{"sku": "WIDGET", "quantity": 3, "unit_price": "4.00"}, {"sku": "GADGET", "quantity": 2, "unit_price": "4.00"}]}
JSON
keel order import "$work/web-order.json" >/dev/null
keel order allocate web/W-3PL-1 >/dev/null
shipment3=$(keel --json shipment release web/W-3PL-1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["shipments"][0])')
keel edi send --partner 3pl-east > "$work/send3.txt" || fail "send to the 3PL: $(cat "$work/send3.txt")"
order940=$(ls "$work"/3pl/out/940-*.edi) || fail "no 940 in the 3PL's outbound folder"
depositor=$(printf '%s' "$shipment3" | tr -d '-' | cut -c1-22)
grep -q "W05\*N\*$depositor\*W-3PL-1~" "$order940" || fail "the 940 does not name the shipment: $(cat "$order940")"
# The 3PL writes its 945 under a temporary name and renames it when complete.
sed "s/0000000000000000000000/$depositor/" "$here/data/945_shipping_advice.edi" > "$work/3pl/in/945.edi.part"
mv "$work/3pl/in/945.edi.part" "$work/3pl/in/945.edi"
keel --json edi poll --partner 3pl-east > "$work/poll3.json" || fail "poll of the 3PL: $(cat "$work/poll3.json")"
[ -f "$work/3pl/archive/945.edi" ] || fail "the 945 was not archived"
keel --json order show web/W-3PL-1 | grep -q '"state" *: *"shipped"' || fail "the 945 did not ship the order"
keel stock verify >/dev/null || fail "stock verify after the 945"
ack945=$(ls "$work"/3pl/out/ack-*.edi)
grep -q "AK9\*A\*1\*1\*1" "$ack945" || fail "the 997 does not accept the 945: $(cat "$ack945")"

(cd "$work" && npm install --silent --no-audit --no-fund --prefix "$work" node-x12@1.7.1 >/dev/null)
for file in "$ack" "$po_ack" "$asn" "$invoice" "$order940" "$ack945"; do
    out=$("$keel_bin" edi validate "$file") || fail "Keel's validator refuses $(basename "$file"): $out"
    case "$out" in *"0 error(s), 0 warning(s); 1 set(s) checked against a dictionary"*) ;;
        *) fail "$(basename "$file"): $out" ;; esac
    "$keel_bin" edi parse "$file" > "$work/keel.json"
    node "$here/node_x12_compare.js" "$work/node_modules" "$file" "$work/keel.json" \
        || fail "node-x12 does not read $(basename "$file") as Keel does (exit $?)"
done
echo "partner_e2e: 850 -> order $order -> 997, 855, 856 and 810; 940 -> 945 -> shipment $shipment3 shipped and 997;"\
     "all accepted by Keel's validator and node-x12"
