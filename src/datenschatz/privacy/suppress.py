"""Secondary suppression: no suppressed cell may be recoverable from published totals.

A table is a set of cells; each cell lies on at most two *lines*, a line being one published
additive relation (for a two-way table with margins: every row, total row included, sums to
its total, and every column likewise). A suppressed cell is exactly recoverable when the
published cells of its lines pin it down. Seen as a graph with the lines as nodes (plus one
free node for the unconstrained side of a cell) and the suppressed cells as edges, a suppressed
cell is recoverable exactly when it is a bridge: an edge on no cycle. (The signs of the margin
relations always balance around a cycle, so every cycle leaves one degree of freedom.)

:func:`protect` adds complementary suppressions until no line holds exactly one suppressed
cell and no suppressed cell is a bridge, choosing the smallest cells first. Bounds from
non-negativity (interval attacks) are not considered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

FREE = ("__free__",)


@dataclass(frozen=True)
class Cell:
    """One cell: its lines (0, 1 or 2 published relations) and its size (smaller goes first)."""

    lines: tuple[Hashable, ...]
    size: tuple[float, ...]


def _ends(cell: Cell) -> tuple[Hashable, Hashable] | None:
    if not cell.lines:
        return None
    if len(cell.lines) == 1:
        return cell.lines[0], FREE
    return cell.lines[0], cell.lines[1]


def _bridges(cells: Sequence[Cell], suppressed: set[int]) -> list[int]:
    """Suppressed cells that are bridges of the line graph (Tarjan, iterative)."""
    adjacency: dict[Hashable, list[tuple[Hashable, int]]] = defaultdict(list)
    for index in suppressed:
        ends = _ends(cells[index])
        if ends is None:
            continue
        a, b = ends
        adjacency[a].append((b, index))
        adjacency[b].append((a, index))
    order: dict[Hashable, int] = {}
    low: dict[Hashable, int] = {}
    bridges: list[int] = []
    counter = 0
    for root in list(adjacency):
        if root in order:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack: list[tuple[Hashable, int, int]] = [(root, -1, 0)]
        while stack:
            node, via, position = stack[-1]
            edges = adjacency[node]
            if position < len(edges):
                stack[-1] = (node, via, position + 1)
                neighbour, edge = edges[position]
                if edge == via:
                    continue
                if neighbour in order:
                    low[node] = min(low[node], order[neighbour])
                else:
                    order[neighbour] = low[neighbour] = counter
                    counter += 1
                    stack.append((neighbour, edge, 0))
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        bridges.append(via)
    return sorted(bridges)


def _component(
    cells: Sequence[Cell], suppressed: set[int], start: Hashable, skip: int
) -> set[Hashable]:
    adjacency: dict[Hashable, list[Hashable]] = defaultdict(list)
    for index in suppressed:
        ends = _ends(cells[index])
        if index == skip or ends is None:
            continue
        adjacency[ends[0]].append(ends[1])
        adjacency[ends[1]].append(ends[0])
    seen: set[Hashable] = {start}
    todo = [start]
    while todo:
        for neighbour in adjacency[todo.pop()]:
            if neighbour not in seen:
                seen.add(neighbour)
                todo.append(neighbour)
    return seen


def recoverable(cells: Sequence[Cell], suppressed: set[int]) -> list[int]:
    """Suppressed cells that the published cells of their lines determine exactly."""
    return _bridges(cells, suppressed)


def protect(cells: Sequence[Cell], primary: set[int]) -> set[int]:
    """The complementary (secondary) suppressions that protect ``primary``."""
    suppressed = set(primary)
    by_line: dict[Hashable, list[int]] = defaultdict(list)
    for index, cell in enumerate(cells):
        for line in cell.lines:
            by_line[line].append(index)

    def smallest(candidates: list[int]) -> int | None:
        free = [i for i in candidates if i not in suppressed]
        return min(free, key=lambda i: (cells[i].size, i)) if free else None

    while True:
        added = False
        for members in by_line.values():
            if sum(1 for i in members if i in suppressed) == 1:
                choice = smallest(members)
                if choice is not None:
                    suppressed.add(choice)
                    added = True
        if added:
            continue
        for bridge in _bridges(cells, suppressed):
            ends = _ends(cells[bridge])
            assert ends is not None
            side = _component(cells, suppressed, ends[0], bridge)
            other = _component(cells, suppressed, ends[1], bridge)
            crossing = []
            for index, cell in enumerate(cells):
                cell_ends = _ends(cell)
                if index in suppressed or cell_ends is None:
                    continue
                a, b = cell_ends
                if (a in side and b in other) or (a in other and b in side):
                    crossing.append(index)
            choice = smallest(crossing)
            if choice is None:
                # No single cell closes a cycle: take the smallest cell on either line.
                choice = smallest([i for line in ends if line != FREE for i in by_line[line]])
            if choice is not None:
                suppressed.add(choice)
                added = True
                break
        if not added:
            return suppressed - set(primary)
