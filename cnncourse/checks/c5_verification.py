"""Checks of Chapter 5's face verification (verify, who_is_it) and the siamese pair classifier.

Oracles: a hand-worked 3-d database whose distances are exact binary fractions (0.625, 0.75, 1.0), a loop over
random databases (verify, who_is_it); for pair_classifier, the check's own tiny encoder run in numpy's company:
sigmoid(|f(a) - f(b)| . w + b) with weights the check sets itself.
"""

import numpy as np

from cnncourse.checks.architecture import expect_model
from cnncourse.checks.core import expect_close, expect_equal, expect_raises, expect_shape, fail

# e is at exact distances 0, 0.625, 0.75 and 1.0 from the four people (squared: 0, 0.390625, 0.5625, 1.0).
ENCODING = np.array([0.5, 0.5, 0.0])
DATABASE = {"alice": np.array([0.5, 0.5, 0.0]), "bob": np.array([0.875, 1.0, 0.0]),
            "carol": np.array([0.5, 0.5, 0.75]), "dave": np.array([0.5, -0.5, 0.0])}
_DISTANCE_HINT = "the Euclidean distance np.linalg.norm(encoding - database[identity]), not its square"


def _pair(value, what, case):
    if not isinstance(value, tuple) or len(value) != 2:
        fail(f"{what} must return a tuple of two values, got {value!r}", case)
    return value


def _check_verify(fn, encoding, identity, database, threshold, want_distance, case):
    distance, same = _pair(fn(encoding, identity, database, threshold), "verify", case)
    if isinstance(distance, (bool, np.bool_)) or not np.isscalar(distance) and np.ndim(distance) != 0:
        fail(f"verify: the distance must be one number, got {distance!r}", case, hint="return (distance, same)")
    expect_close(float(distance), want_distance, "verify: distance", case, rtol=1e-6, hint=_DISTANCE_HINT)
    if not isinstance(same, (bool, np.bool_)):
        fail(f"verify: `same` must be a bool, got {type(same).__name__} {same!r}", case,
             hint="same = distance < threshold")
    expect_equal(bool(same), bool(want_distance < threshold), "verify: same", case,
                 hint="the same person only when the distance is strictly below the threshold (< , not <=)")


def public_verify(verify):
    """The hand-worked database: a match, a distance exactly at the threshold (no match), a stranger, unknown name.

    Separates: the squared distance (0.625 squared is not 0.625), <= instead of <, the answer inverted, the
    distance to the closest person instead of the claimed one, no error for an unknown name."""
    _check_verify(verify, ENCODING, "bob", DATABASE, 0.7, 0.625, "claims to be bob, distance 0.625, threshold 0.7")
    _check_verify(verify, ENCODING, "alice", DATABASE, 0.7, 0.0, "claims to be alice, identical encoding")
    _check_verify(verify, ENCODING, "carol", DATABASE, 0.75, 0.75, "claims to be carol, distance == threshold == 0.75")
    _check_verify(verify, ENCODING, "dave", DATABASE, 0.7, 1.0, "claims to be dave, distance 1.0")
    expect_raises(lambda: verify(ENCODING, "eve", DATABASE, 0.7), ValueError, "verify with a name not in the database",
                  "eve is not in the database")


def _loop_who(encoding, database, threshold):
    best, name = np.inf, None
    for key, value in database.items():
        d = np.sqrt(np.sum((np.asarray(encoding, np.float64) - np.asarray(value, np.float64)) ** 2))
        if d < best:
            best, name = d, key
    return best, (name if best < threshold else None)


def _check_who(fn, encoding, database, threshold, case):
    want_distance, want_name = _loop_who(encoding, database, threshold)
    distance, name = _pair(fn(encoding, database, threshold), "who_is_it", case)
    expect_close(float(distance), want_distance, "who_is_it: min_distance", case, rtol=1e-6,
                 hint="the smallest Euclidean distance over all entries (argmin, not argmax; not squared)")
    if name != want_name:
        hint = ("even the closest person is at distance >= threshold: return None as the identity"
                if want_name is None else "the identity of the closest entry (smallest distance)")
        fail(f"who_is_it: identity: expected {want_name!r}, got {name!r}", case, hint)


def public_who_is_it(who_is_it):
    """The hand-worked database: found, found among others, nobody close enough, exactly at the threshold, empty.

    Separates: no None when nobody is close enough, <= instead of <, the farthest person instead of the closest,
    squared distances, the name of the last entry instead of the closest one."""
    _check_who(who_is_it, ENCODING, DATABASE, 0.7, "alice is in the database (distance 0)")
    others = {k: v for k, v in DATABASE.items() if k != "alice"}
    _check_who(who_is_it, ENCODING, others, 0.7, "bob, carol, dave: bob is closest at 0.625 < 0.7")
    _check_who(who_is_it, ENCODING, others, 0.5, "bob, carol, dave: the closest is at 0.625 >= 0.5")
    _check_who(who_is_it, ENCODING, others, 0.625, "bob, carol, dave: the closest is at exactly the threshold 0.625")
    expect_raises(lambda: who_is_it(ENCODING, {}, 0.7), ValueError, "who_is_it with an empty database", "empty")


def _random_database(rng, n_people, d):
    vectors = rng.standard_normal((n_people, d))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return {f"person_{k}": vectors[k].astype(np.float32) for k in range(n_people)}


def _boundary_database():
    """(encoding, database) for the hidden boundary cases: float32 entries at exact distances 0.625 (erin) and 1.0
    (frank, grace) from the encoding."""
    database = {"erin": [0.25, 0.375, 0.5, 0.5], "frank": [0.25, 0.0, 0.0, -0.5], "grace": [-0.75, 0.0, 0.0, 0.5]}
    return np.array([0.25, 0.0, 0.0, 0.5]), {name: np.array(v, np.float32) for name, v in database.items()}


def hidden_verify(verify):
    """Random unit encodings of several sizes, float32 entries, thresholds on both sides of the distance; a float32
    entry at exactly the threshold (no match), a name not in the database."""
    encoding, database = _boundary_database()
    _check_verify(verify, encoding, "erin", database, 0.625, 0.625, "claims to be erin, distance == threshold")
    _check_verify(verify, encoding, "frank", database, 1.0, 1.0, "claims to be frank, distance == threshold == 1")
    expect_raises(lambda: verify(encoding, "heidi", database, 0.7), ValueError,
                  "verify with a name not in the database", "heidi is not in the database",
                  hint="check `identity in database` first and raise ValueError naming it")
    rng = np.random.default_rng(5)
    for trial in range(20):
        d = int(rng.integers(2, 129))
        database = _random_database(rng, int(rng.integers(1, 8)), d)
        encoding = rng.standard_normal(d)
        encoding /= np.linalg.norm(encoding)
        name = list(database)[int(rng.integers(len(database)))]
        want = float(np.sqrt(np.sum((encoding - database[name].astype(np.float64)) ** 2)))
        threshold = float(want + rng.choice([-1, 1]) * rng.uniform(0.01, 0.5))
        _check_verify(verify, encoding, name, database, threshold, want, f"random trial {trial}, d = {d}")


def hidden_who_is_it(who_is_it):
    """Random databases of 1 to 40 people against a loop; thresholds that accept and reject; the closest entry at
    exactly the threshold (nobody), a database of one."""
    encoding, database = _boundary_database()
    _check_who(who_is_it, encoding, database, 0.625, "erin, frank, grace: erin closest at exactly 0.625 = threshold")
    _check_who(who_is_it, encoding, database, 0.6251, "erin, frank, grace: erin at 0.625 < 0.6251")
    _check_who(who_is_it, encoding, {"frank": database["frank"]}, 1.0, "only frank, at exactly 1.0 = threshold")
    rng = np.random.default_rng(6)
    for trial in range(25):
        d = int(rng.integers(2, 129))
        database = _random_database(rng, int(rng.integers(1, 41)), d)
        encoding = list(database.values())[0] + rng.normal(0, rng.uniform(0.01, 0.3), d)
        best, _ = _loop_who(encoding, database, np.inf)
        threshold = float(best + rng.choice([-1, 1]) * rng.uniform(0.01, 0.3))
        _check_who(who_is_it, encoding, database, threshold, f"random trial {trial}, {len(database)} people, d = {d}")


def tiny_encoder(image_shape=(8, 8, 3), d=4, seed=0):
    """A small encoder for the checks: Conv2D 4 3x3 ReLU, global average pool, Dense d, unit normalisation."""
    import keras
    from keras import layers

    encoder = keras.Sequential([keras.Input(image_shape), layers.Conv2D(4, 3, activation="relu"),
                                layers.GlobalAveragePooling2D(), layers.Dense(d), layers.UnitNormalization()],
                               name="tiny_encoder")
    rng = np.random.default_rng(seed)
    encoder.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in encoder.get_weights()])
    return encoder


def _check_pair(fn, image_shape, d, batch, seed):
    import keras

    case = f"encoder of {image_shape} images to d = {d}, batch {batch}"
    encoder = tiny_encoder(image_shape, d, seed)
    model = fn(encoder)
    expect_model(model, "pair_classifier", case)
    if len(model.inputs) != 2:
        fail(f"pair_classifier: expected 2 inputs (image_a, image_b), got {len(model.inputs)}", case)
    want_params = encoder.count_params() + d + 1
    if model.count_params() != want_params:
        fail(f"pair_classifier: expected {want_params:,} parameters (the encoder's {encoder.count_params():,} "
             f"+ Dense(1) on d = {d} features: {d + 1}), got {model.count_params():,}", case,
             hint="apply the SAME encoder to both images (shared weights), not two encoders")
    weighted = [layer for layer in model.layers if layer.weights]
    if sum(layer is encoder for layer in weighted) != 1:
        fail(f"pair_classifier: the given encoder must appear once among the model's layers; layers with weights: "
             f"{[layer.name for layer in weighted]}", case, hint="call encoder(image_a) and encoder(image_b)")
    try:
        head = model.get_layer("same")
    except ValueError:
        fail(f"pair_classifier: no layer named 'same'; layers: {[layer.name for layer in model.layers]}", case,
             hint='layers.Dense(1, activation="sigmoid", name="same")')
    if not isinstance(head, keras.layers.Dense) or head.units != 1:
        fail(f"pair_classifier: layer 'same' must be Dense(1), got {type(head).__name__}", case)
    rng = np.random.default_rng(seed)
    w, b = rng.normal(0, 2.0, (d, 1)).astype("float32"), rng.normal(0, 0.5, (1,)).astype("float32")
    head.set_weights([w, b])
    a, c = (rng.random((batch, *image_shape)).astype("float32") for _ in range(2))
    got = np.asarray(model([a, c], training=False))
    expect_shape(got, (batch, 1), "pair_classifier output", case)
    if np.any(got <= 0) or np.any(got >= 1):
        fail("pair_classifier: outputs must be probabilities in (0, 1)", case, hint='activation="sigmoid"')
    f_a, f_c = (np.asarray(encoder(x, training=False), dtype=np.float64) for x in (a, c))
    want = 1 / (1 + np.exp(-(np.abs(f_a - f_c) @ w.astype(np.float64) + b)))
    expect_close(got, want, "pair_classifier output with known Dense weights", case, rtol=1e-4, atol=1e-5,
                 hint="the features are the element-wise absolute difference |f(a) - f(b)| (ops.abs)")
    swapped = np.asarray(model([c, a], training=False))
    expect_close(swapped, got, "pair_classifier output with image_a and image_b swapped", case, rtol=1e-4, atol=1e-5,
                 hint="same weights for both images and a symmetric feature |f(a) - f(b)|")


def public_pair_classifier(pair_classifier):
    """A tiny encoder of 8x8 images to 4 numbers: shared weights, |f(a) - f(b)|, one sigmoid unit.

    Separates: two encoders instead of one shared (parameter count), f(a) - f(b) without abs (swapping the images
    changes the output), squared differences or the product f(a) * f(b) (outputs under known weights), a ReLU
    head instead of the sigmoid (outputs outside (0, 1))."""
    _check_pair(pair_classifier, (8, 8, 3), 4, 5, seed=0)


def hidden_pair_classifier(pair_classifier):
    """Other image sizes (non-square), other encoding sizes and batches, other random weights."""
    _check_pair(pair_classifier, (12, 10, 3), 16, 3, seed=1)
    _check_pair(pair_classifier, (6, 6, 3), 1, 7, seed=2)
