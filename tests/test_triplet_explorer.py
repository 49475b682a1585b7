"""Chapter 5's triplet explorer: the triplets, their distances and kinds against loops over the batch, the loss
against the course's twin of the triplet loss, and the widget driven through its margin."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.widgets import triplet_explorer  # noqa: E402
from cnncourse.widgets.triplet_explorer import KINDS, triplet_figure, triplet_kinds, triplet_text  # noqa: E402


def loop_triplets(embeddings, labels, alpha):
    """Every (a, p, n) by three loops, with its squared distances and its kind by the definitions of FaceNet."""
    rows = []
    for a in range(len(labels)):
        for p in range(len(labels)):
            for n in range(len(labels)):
                if p == a or labels[p] != labels[a] or labels[n] == labels[a]:
                    continue
                d_ap = sum((x - y) ** 2 for x, y in zip(embeddings[a], embeddings[p]))
                d_an = sum((x - y) ** 2 for x, y in zip(embeddings[a], embeddings[n]))
                if d_ap - d_an + alpha <= 0:
                    kind = "easy"  # zero loss
                elif d_an > d_ap:
                    kind = "semi-hard"
                else:
                    kind = "hard"
                rows.append((a, p, n, d_ap, d_an, kind))
    return rows


def batch(seed, people=4, per_person=3, d=5):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(people), per_person)
    rng.shuffle(labels)
    embeddings = rng.normal(size=(people, d))[labels] + rng.normal(scale=0.7, size=(len(labels), d))
    return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True), labels


@pytest.mark.parametrize("seed,alpha", [(0, 0.2), (1, 0.0), (2, 0.5), (3, 1.5), (4, 4.0)])
def test_triplets_distances_and_kinds_match_three_loops(seed, alpha):
    embeddings, labels = batch(seed)
    got = triplet_kinds(embeddings, labels, alpha)
    want = loop_triplets(embeddings, labels, alpha)
    np.testing.assert_array_equal(got["triplets"], [row[:3] for row in want])
    np.testing.assert_allclose(got["d_ap"], [row[3] for row in want], rtol=1e-12)
    np.testing.assert_allclose(got["d_an"], [row[4] for row in want], rtol=1e-12)
    assert list(got["kind"]) == [row[5] for row in want]
    assert got["counts"] == {k: sum(row[5] == k for row in want) for k in KINDS}
    if alpha == 0:
        assert got["counts"]["semi-hard"] == 0
    if alpha == 4.0:  # unit vectors: d(A, N) <= 4 < d(A, P) + 4 unless A = P, so no triplet is easy here
        assert got["counts"]["easy"] == 0


def test_loss_is_the_triplet_loss_per_triplet_and_zero_exactly_on_the_easy_ones():
    from cnncourse.models.twins import mean_triplet_loss

    embeddings, labels = batch(5, people=5, per_person=4)
    for alpha in (0.0, 0.2, 0.8):
        got = triplet_kinds(embeddings, labels, alpha)
        a, p, n = (embeddings[got["triplets"][:, k]] for k in range(3))
        assert got["loss"].mean() == pytest.approx(float(mean_triplet_loss(a, p, n, alpha)), rel=1e-5)
        np.testing.assert_array_equal(got["loss"] == 0, got["kind"] == "easy")


def test_mined_semi_hard_negatives_are_semi_hard_here():
    """Each triplet that the course's mining picks from its semi-hard window is called semi-hard by the explorer."""
    from cnncourse.models.twins import mine_triplets

    embeddings, labels = batch(6, people=5, per_person=4)
    got = triplet_kinds(embeddings, labels, 0.3)
    kind_of = {tuple(t): k for t, k in zip(got["triplets"], got["kind"])}
    d = np.sum((embeddings[:, None] - embeddings[None]) ** 2, axis=-1)
    for a, p, n in mine_triplets(embeddings, labels, 0.3):
        window = d[a, p] < d[a, n] < d[a, p] + 0.3
        assert (kind_of[(a, p, n)] == "semi-hard") == window


def test_text_and_figure():
    embeddings, labels = batch(7)
    kinds = triplet_kinds(embeddings, labels, 0.2)
    text = triplet_text(kinds)
    total = len(kinds["kind"])
    assert text.startswith(f"margin alpha = 0.20: {total:,} triplets")
    for k in KINDS:
        assert f"{k:<9} {kinds['counts'][k]:>7,}" in text
    fig = triplet_figure(kinds, max_points=10)
    assert len(fig.axes) == 2 and all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
    drawn = sum(len(c.get_offsets()) for c in fig.axes[0].collections if hasattr(c, "get_offsets"))
    not_easy = total - kinds["counts"]["easy"]
    assert drawn >= not_easy  # the rare kinds are always drawn, whatever the sample of easy ones
    matplotlib.pyplot.close(fig)


def test_bad_input_is_a_value_error():
    embeddings, labels = batch(8)
    with pytest.raises(ValueError, match="alpha"):
        triplet_kinds(embeddings, labels, -0.1)
    with pytest.raises(ValueError, match="one entry per embedding"):
        triplet_kinds(embeddings, labels[:-1])
    with pytest.raises(ValueError, match="no triplet"):
        triplet_kinds(embeddings[:3], [0, 1, 2])
    with pytest.raises(ValueError, match="no triplet"):
        triplet_explorer(embeddings[:3], [0, 0, 0])


def test_explorer_follows_its_margin():
    embeddings, labels = batch(9, people=5, per_person=4)
    box = triplet_explorer(embeddings, labels, alpha=0.2)
    assert set(box.controls) == {"margin"} and "Try" in box.caption.value
    first, text = bytes(box.picture.value), box.formula.value
    assert first.startswith(b"\x89PNG") and "margin alpha = 0.20" in text
    box.controls["margin"].value = 0.0
    assert f"semi-hard {0:>7,}" in box.formula.value
    box.controls["margin"].value = 2.0
    easy = triplet_kinds(embeddings, labels, 2.0)["counts"]["easy"]
    assert f"easy      {easy:>7,}" in box.formula.value
    assert bytes(box.picture.value) != first and box.message.value == ""
