"""Where each node of a cluster picture goes: a layout that separates roles.

A force layout turns a 400-node cluster into a hairball. This one puts the roles in bands, the
way an analyst draws a case on a whiteboard:

* officers and permit managers in the top band, above the companies they run;
* companies and permits in the next band (premises without residents next to them); a band
  wider than the rest wraps into lines, and every other node sits a little lower, so that
  neighbouring labels do not meet;
* everyone else (workers, migrants, residents) grouped by the address they are registered at,
  each group a compact block with its address underneath, blocks wrapped into rows;
* entities outside the cluster in a column on the right.

Rows and blocks are ordered by the companies their people connect to, so lines stay short.
Deterministic: same nodes and relations, same positions. Units are CSS pixels at zoom 1, with
room for a label under every node.

>>> nodes = [("C1", "company", False), ("P1", "worker", False), ("P2", "worker", False),
...          ("A1", "home", False), ("P9", "director", False), ("X1", "worker", True)]
>>> pairs = [("P1", "C1", "EMPLOYED_BY"), ("P2", "C1", "EMPLOYED_BY"), ("P1", "A1", "REGISTERED_AT"),
...          ("P2", "A1", "REGISTERED_AT"), ("P9", "C1", "OFFICER_OF"), ("X1", "C1", "EMPLOYED_BY")]
>>> at = role_layout(nodes, pairs)
>>> at["P9"][1] < at["C1"][1] < at["P1"][1] < at["A1"][1]
True
>>> at["X1"][0] > max(x for node, (x, y) in at.items() if node != "X1")
True
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

__all__ = ["CELL_HEIGHT", "CELL_WIDTH", "role_layout"]

CELL_WIDTH, CELL_HEIGHT = 150, 58  # room for "Werknemer 123" and a row of partner badges
ROW_GAP = 150
ZIGZAG = 0.6 * CELL_HEIGHT  # vertical offset of every other node in a band
LINE_GAP = 1.8 * CELL_HEIGHT  # between the lines of a wrapped band
CONTROL_ROLES = {"director", "manager"}
ASPECT = 2.2  # width / height the blocks are wrapped to, close to a laptop window


def _block_size(people: int) -> tuple[int, int]:
    columns = max(1, math.ceil(math.sqrt(people * 1.5))) if people else 1
    rows = math.ceil(people / columns) if people else 0
    return columns, rows


def role_layout(nodes: list[tuple[str, str, bool]], pairs: list[tuple[str, str, str]]) -> dict[str, tuple[int, int]]:
    """Positions for ``nodes`` (id, role, outside?) linked by ``pairs`` (from, to, relation type).

    A role is a key of :data:`mhgraph.export.aliases.ROLE_RULES` (``employer``, ``worker``,
    ``home``, ...); entity types count through their roles (see :func:`_kind`).
    """
    kind = {node: _kind(role) for node, role, outside in nodes if not outside}
    outside = sorted(node for node, role, is_outside in nodes if is_outside)
    neighbours: dict[str, Counter] = defaultdict(Counter)
    for a, b, relation in pairs:
        if a != b:
            neighbours[a][b] += 1
            neighbours[b][a] += 1

    organisations = sorted(node for node, k in kind.items() if k == "organisation")
    control = sorted(node for node, k in kind.items() if k == "control")
    people = sorted(node for node, k in kind.items() if k == "person")
    addresses = sorted(node for node, k in kind.items() if k == "address")

    def strongest(node: str, among: set[str]) -> str | None:
        found = [(-count, other) for other, count in neighbours[node].items() if other in among]
        return min(found)[1] if found else None

    address_set, organisation_set = set(addresses), set(organisations)
    blocks: dict[str, list[str]] = defaultdict(list)  # anchor -> people
    for person in people:
        anchor = strongest(person, address_set) or strongest(person, organisation_set) or ""
        blocks[anchor].append(person)
    homeless_addresses = [a for a in addresses if a not in blocks]
    # Premises without residents sit with the organisations; other lone addresses get a block.
    premises = [a for a in homeless_addresses if strongest(a, organisation_set)]
    for address in homeless_addresses:
        if address not in premises:
            blocks[address] = []
    organisations_row = organisations + premises

    # Order: organisations by id, blocks by the mean position of the organisations they touch,
    # then organisations by the mean position of their blocks.
    rank = {node: index for index, node in enumerate(organisations_row)}

    def centre(members: list[str], placed: dict[str, float], default: float) -> float:
        touched = [placed[o] for m in members for o in neighbours[m] if o in placed]
        return sum(touched) / len(touched) if touched else default

    order = sorted(blocks, key=lambda anchor: (centre(blocks[anchor] + [anchor], rank, len(rank)), anchor))
    block_rank = {}
    for index, anchor in enumerate(order):
        for member in blocks[anchor] + [anchor]:
            block_rank[member] = index
    organisations_row.sort(key=lambda node: (centre([node], block_rank, len(order)), node))

    positions: dict[str, tuple[float, float]] = {}
    # Blocks, wrapped into rows whose width suits the window (placed from y = 0; the bands
    # above them are put in afterwards and the blocks moved down under them).
    sizes = {anchor: _block_size(len(blocks[anchor])) for anchor in order}
    area = sum((c * CELL_WIDTH + CELL_WIDTH) * ((r + 1) * CELL_HEIGHT + CELL_HEIGHT) for c, r in sizes.values())
    width_limit = max(math.sqrt(area * ASPECT), 4 * CELL_WIDTH)
    x = y = 0.0
    row_height = 0.0
    for anchor in order:
        columns, rows = sizes[anchor]
        block_width = columns * CELL_WIDTH
        if x > 0 and x + block_width > width_limit:
            x, y = 0.0, y + row_height + CELL_HEIGHT
            row_height = 0.0
        for index, person in enumerate(blocks[anchor]):
            row, column = divmod(index, columns)
            # Stagger alternate rows by half a cell: labels of neighbours never line up edge to edge.
            positions[person] = (x + (column + 0.5 * (row % 2)) * CELL_WIDTH, y + row * CELL_HEIGHT)
        if anchor:
            positions[anchor] = (x + (columns - 1) * CELL_WIDTH / 2, y + rows * CELL_HEIGHT + 10)
        x += block_width + CELL_WIDTH
        row_height = max(row_height, (rows + 1) * CELL_HEIGHT + 10)
    spacing = CELL_WIDTH * 1.4
    # A band wider than the blocks wraps into lines, so that a cluster of many companies and few
    # people does not become one long, unreadably thin row.
    band_width = max([p[0] for p in positions.values()] + [0.0],
                     default=0.0)
    band_width = max(band_width, spacing * (math.ceil(math.sqrt(max(len(organisations_row), len(control)) * 2.5)) - 1))

    def band(row: list[str], top: float) -> float:
        """Place ``row`` in lines from ``top``; returns the y below the band."""
        per_line = max(1, int(band_width // spacing) + 1)
        for start in range(0, len(row), per_line):
            line = row[start:start + per_line]
            offset = (band_width - (len(line) - 1) * spacing) / 2 + (spacing / 2 if start // per_line % 2 else 0)
            for index, node in enumerate(line):
                # Zig-zag: neighbours' labels sit at different heights, so they can be wider than
                # the gap between the nodes.
                positions[node] = (offset + index * spacing,
                                   top + start // per_line * LINE_GAP + (index % 2) * ZIGZAG)
        lines = math.ceil(len(row) / per_line)
        return top + (lines - 1) * LINE_GAP + ROW_GAP if row else top

    # Each organisation above the people it connects to, as far as the band allows; officers
    # above their organisations.
    placed_x = {node: px for node, (px, _) in positions.items()}
    organisations_row.sort(key=lambda node: (centre([node], placed_x, band_width / 2), node))
    people_at = {node: p for node, p in positions.items()}
    control_bottom = band(control, 0.0)
    below = band(organisations_row, control_bottom)
    control.sort(key=lambda node: (centre([node], {n: positions[n][0] for n in organisations_row}, 0.0), node))
    band(control, 0.0)
    for node, (px, py) in people_at.items():
        positions[node] = (px, py + below)

    right = max([p[0] for p in positions.values()] + [0.0]) + 1.3 * CELL_WIDTH
    attach_y = {node: centre([node], {n: p[1] for n, p in positions.items()}, 0.0) for node in outside}
    for index, node in enumerate(sorted(outside, key=lambda n: (attach_y[n], n))):
        positions[node] = (right + index // 40 * CELL_WIDTH * 1.2, index % 40 * CELL_HEIGHT)
    return {node: (round(px), round(py)) for node, (px, py) in positions.items()}


def _kind(role: str) -> str:
    if role in CONTROL_ROLES:
        return "control"
    if role in {"employer", "sponsor", "holder", "company", "permit"}:
        return "organisation"
    if role in {"premises", "home", "address"}:
        return "address"
    return "person"
