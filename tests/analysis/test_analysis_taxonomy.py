from __future__ import annotations

import io

import numpy as np
import pytest

from amends.analysis import TaxonomyModel, check_examples, train_taxonomy
from amends.analysis.training import fit_featurizer, to_csr
from amends.errors import InvalidInput

EXAMPLES = {
    "delivery": [
        "my parcel has not arrived",
        "where is my package, it is late",
        "the courier never delivered my order",
        "delivery is a week late",
        "tracking has not moved for days",
        "still waiting for the parcel to arrive",
        "my order has not been delivered yet",
        "the delivery driver did not come",
    ],
    "billing": [
        "I was charged twice",
        "there is an extra fee on my bill",
        "you overcharged my card",
        "the invoice amount is wrong",
        "why is my bill so high this month",
        "a payment I did not make is on my statement",
        "my card was billed two times",
        "the price I paid was higher than advertised",
    ],
    "login": [
        "I cannot log in to my account",
        "the password reset email never comes",
        "my account is locked",
        "the verification code does not work",
        "I forgot my password",
        "I am locked out of the app",
        "sign in fails every time",
        "two factor code is rejected",
    ],
}


def _data() -> tuple[list[str], list[str]]:
    texts = [t for ts in EXAMPLES.values() for t in ts]
    labels = [label for label, ts in EXAMPLES.items() for _ in ts]
    return texts, labels


@pytest.fixture(scope="module")
def model() -> TaxonomyModel:
    return train_taxonomy(*_data())


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("the parcel is late and has not arrived", "delivery"),
        ("you charged my card two times", "billing"),
        ("I can't log in, my password is not accepted", "login"),
    ],
)
def test_few_shot_taxonomy_learns(model: TaxonomyModel, text: str, label: str) -> None:
    [(predicted, confidence)] = model.predict([text])
    assert predicted == label
    assert 1 / 3 < confidence <= 1


def test_round_trip_gives_the_same_predictions(model: TaxonomyModel) -> None:
    texts = ["late parcel", "double charge on my card", "locked out", "hello there"]
    loaded = TaxonomyModel.from_bytes(model.to_bytes())
    assert loaded.labels == model.labels
    assert loaded.predict(texts) == model.predict(texts)
    np.testing.assert_array_equal(loaded.predict_proba(texts), model.predict_proba(texts))


def test_saved_model_is_plain_arrays(model: TaxonomyModel) -> None:
    arrays = np.load(io.BytesIO(model.to_bytes()), allow_pickle=False)
    assert all(arrays[k].dtype != object for k in arrays.files)


@pytest.mark.parametrize("data", [b"", b"not a model", b"PK\x03\x04garbage"])
def test_from_bytes_rejects_garbage(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        TaxonomyModel.from_bytes(data)


def test_predict_on_no_texts(model: TaxonomyModel) -> None:
    assert model.predict([]) == []


@pytest.mark.parametrize(
    ("texts", "labels"),
    [
        (["a", "b"], ["x"]),
        (["a", "b"], ["x", "x"]),
        (["a", " "], ["x", "y"]),
    ],
)
def test_unusable_examples_are_refused(texts: list[str], labels: list[str]) -> None:
    with pytest.raises(InvalidInput):
        check_examples(texts, labels)


def test_few_examples_warn() -> None:
    warnings = check_examples(["a b", "c d", "e f"], ["x", "x", "y"])
    assert warnings == [
        "label 'x' has only 2 examples (8 or more work well)",
        "label 'y' has only 1 example (8 or more work well)",
    ]


def test_featurizer_matches_scikit_learn() -> None:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["I was charged twice!", "Parcel  late, again.", "Ça va? No", "a"]
    queries = ["charged twice twice, parcel", "zzz", "", "Ça  late"]
    featurizer = fit_featurizer(texts, char=True)
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True).fit(texts)
    expected = hstack([word.transform(queries), char.transform(queries)]).toarray()
    ours = to_csr(featurizer.transform(queries), featurizer.n_features).toarray()
    np.testing.assert_allclose(ours, expected, atol=1e-6)


def test_featurizer_cache_gives_the_same_rows_on_repeat() -> None:
    texts = ["I was charged twice!", "Parcel  late, again.", "charged charged late"]
    featurizer = fit_featurizer(texts, char=True)
    first = to_csr(featurizer.transform(texts), featurizer.n_features).toarray()
    again = to_csr(featurizer.transform(texts[::-1]), featurizer.n_features).toarray()
    np.testing.assert_array_equal(first, again[::-1])


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("card_arrival", "card arrival"),
        ("Refund_not_showing_up", "refund not showing up"),
        ("reverted_card_payment?", "reverted card payment"),
        ("getSpareCard", "get spare card"),
        ("x", ""),
        ("42", ""),
    ],
)
def test_label_names_as_text(label: str, text: str) -> None:
    from amends.analysis.taxonomy import _label_text

    assert _label_text(label) == text


def test_label_names_count_as_examples_but_not_in_examples() -> None:
    texts = ["my parcel is late", "I was charged twice"]
    labels = ["late_delivery", "double_charge"]
    with_names = train_taxonomy(texts, labels)
    assert with_names.examples == 2
    [(label, _)] = with_names.predict(["double charge"])
    assert label == "double_charge"
    # names shared by several labels carry nothing, and are left out
    coded = train_taxonomy(texts, ["CAT-01", "CAT-02"], label_names=True)
    assert (
        coded.featurizer.word_vocab.keys()
        == train_taxonomy(
            texts, ["CAT-01", "CAT-02"], label_names=False
        ).featurizer.word_vocab.keys()
    )


def test_featurizer_reuses_a_batch_only_when_equal() -> None:
    texts = ["I was charged twice!", "Parcel  late, again."]
    featurizer = fit_featurizer(texts, char=True)
    batch = list(texts)
    first = to_csr(featurizer.transform(batch), featurizer.n_features).toarray()
    batch[0] = "parcel parcel"
    changed = to_csr(featurizer.transform(batch), featurizer.n_features).toarray()
    fresh = to_csr(featurizer.transform(["parcel parcel", texts[1]]), featurizer.n_features)
    np.testing.assert_array_equal(changed, fresh.toarray())
    assert not np.array_equal(first, changed)
