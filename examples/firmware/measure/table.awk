# Merges the output of measure_lwip.elf (first file) and measure.elf (second) of one target into
# rows of the docs/cores.md table; -v target=NAME names the first column. `header` in the first
# row of the output: run with -v header=1.
#   awk -v target=thumbv7em-none-eabihf -v header=1 -f table.awk measure_lwip.out measure.out
BEGIN {
  if (header) {
    print "| target | packet | fill | core (a) | hook fn (d) | hook (b) | lwIP (c) | NAT adds | (b)/(c) | chained adds | linear core | linear adds | linear ratio |"
    print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  }
}
FNR == 1 { file++ }
# lwIP alone: "measure <proto> <dir> lwip <c> chained <c'>" or "measure <proto> <kind> lwip <c>"
file == 1 && $1 == "measure" && $4 == "lwip" { lwip[$2 " " $3] = $5; lwip_chained[$2 " " $3] = $7; next }
# "measure <proto> <dir> <fill> core <a> hook <b> chained <b'> linear <l> shim <d>" (d: the hook
# function alone); the linear list's hook figure is derived: lwip-snat's shim (b - c - a) around
# the list's core.
file == 2 && $1 == "measure" && $5 == "core" {
  k = $2 " " $3; c = lwip[k]; a = $6; b = $8; chained = $10; l = $12; d = $14
  shim[k] = b - c - a
  printf "| %s | %s | %d | %.0f | %.0f | %.0f | %.0f | +%.0f | %.2f | +%.0f | %.0f | +%.0f | %.2f |\n", target, k, $4,
    a, d, b, c, b - c, b / c, chained - lwip_chained[k], l, shim[k] + l, (c + shim[k] + l) / c
  next
}
# "measure <proto> <dir> <fill> linear <l>": the list alone, past the NAT's tables.
file == 2 && $1 == "measure" && $5 == "linear" {
  k = $2 " " $3; c = lwip[k]; l = $6
  printf "| %s | %s | %d | – | – | – | %.0f | – | – | – | %.0f | +%.0f | %.2f |\n", target, k, $4, c, l,
    shim[k] + l, (c + shim[k] + l) / c
  next
}
# "measure <proto> <kind> hook <b>": a packet no rule concerns (norule, dmzlan, torouter)
file == 2 && $1 == "measure" && $4 == "hook" {
  k = $2 " " $3; c = lwip[k]; b = $5; d = $7
  # (the hook forwarding it can cost less than lwIP alone: a sign, not "+-"; rounded first,
  # so that a fraction of an instruction below it prints as +0, not -0)
  added = b - c; added = (added < 0) ? -int(-added + 0.5) : int(added + 0.5)
  printf "| %s | %s | – | – | %.0f | %.0f | %.0f | %+d | %.2f | – | – | – | – |\n", target, k, d, b, c, added, b / c
}
