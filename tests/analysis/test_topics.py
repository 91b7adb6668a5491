from __future__ import annotations

from collections import Counter

import pytest

from amends.analysis.topics import TopicResult, clean_text, discover_topics

CHARGES = [
    "I was charged twice for the same order",
    "you charged my card twice this month",
    "double charge on my credit card statement",
    "there are two identical charges for one purchase",
    "my bank shows I was charged two times",
    "why was I charged twice for my subscription",
    "duplicate charge on my card, please refund one",
    "the payment was taken twice from my account",
    "I see the same charge twice on my statement",
    "charged twice for a single ticket",
    "you billed my card twice for one order",
    "two charges for the same thing, I only bought it once",
    "my credit card was charged twice yesterday",
    "got a double charge after checkout",
    "the charge went through twice and I want my money back",
    "I have been charged twice, fix this",
    "double charged for my monthly plan",
    "why are there two charges on my card",
    "the same amount was charged twice to my card",
    "I was billed twice for one purchase, refund the extra charge",
]
PARCELS = [
    "my parcel is late and still has not arrived",
    "the parcel was due last week and never came",
    "where is my parcel, the delivery is two weeks late",
    "my package has not been delivered yet",
    "the courier still has not delivered my parcel",
    "delivery is late again, parcel stuck in transit",
    "parcel tracking has not moved for days",
    "I am still waiting for my parcel to be delivered",
    "the parcel delivery was promised on monday and it is late",
    "my parcel never arrived",
    "late delivery, the parcel is a week overdue",
    "the delivery driver did not bring my parcel",
    "my package is late and the tracking says nothing",
    "parcel lost in delivery, nobody knows where it is",
    "why is my parcel so late",
    "my order was never delivered, the parcel is missing",
    "the parcel arrived ten days late",
    "delivery of my parcel keeps getting delayed",
    "parcel still not delivered after three weeks",
    "the courier says the parcel is delayed again",
]
CRASHES = [
    "the app crashes every time I open it",
    "your app keeps crashing on my phone",
    "app crashes when I try to log in",
    "the mobile app crashed again after the update",
    "since the update the app crashes on startup",
    "the app freezes and crashes on android",
    "app keeps closing and crashing on iphone",
    "every time I tap checkout the app crashes",
    "the new version of the app crashes constantly",
    "app crash when opening my account page",
    "the app crashes as soon as it loads",
    "your app is crashing all the time",
    "the app crashes whenever I upload a photo",
    "app crashed three times today",
    "the app crashes and I lose my basket",
    "the application keeps crashing on my tablet",
    "app crashes on launch after updating",
    "the app crashes when I open notifications",
    "crashing app, cannot use it at all",
    "the app crashes every single time I use the search",
]
GROUPS = {"charges": CHARGES, "parcels": PARCELS, "crashes": CRASHES}
WORDS = {"charges": {"charged", "charge", "charges", "twice"}, "parcels": {"parcel", "late"}}
WORDS["crashes"] = {"app", "crashes", "crashing", "crash"}


def _texts() -> tuple[list[str], list[str]]:
    texts: list[str] = []
    truth: list[str] = []
    # interleaved, so no group is helped by its position
    for i in range(20):
        for name, group in GROUPS.items():
            texts.append(group[i])
            truth.append(name)
    return texts, truth


@pytest.fixture(scope="module")
def three_groups() -> TopicResult:
    texts, _ = _texts()
    return discover_topics(texts, seed=0)


def _topic_of_group(result: TopicResult, truth: list[str], name: str) -> int:
    ids = [a for a, t in zip(result.assignments, truth, strict=True) if t == name]
    return Counter(ids).most_common(1)[0][0]


def test_three_groups_come_out_as_three_topics(three_groups: TopicResult) -> None:
    _, truth = _texts()
    ids = {name: _topic_of_group(three_groups, truth, name) for name in GROUPS}
    assert len(set(ids.values())) == 3
    assert -1 not in ids.values()
    for name, topic_id in ids.items():
        members = [t for a, t in zip(three_groups.assignments, truth, strict=True) if a == topic_id]
        # the topic is (nearly) all of its group and nothing else
        assert members.count(name) >= 18
        assert len(members) - members.count(name) <= 2


def test_labels_name_the_group(three_groups: TopicResult) -> None:
    _, truth = _texts()
    for name, words in WORDS.items():
        topic = three_groups.topics[_topic_of_group(three_groups, truth, name)]
        label_words = set(topic.label.replace("·", " ").split())
        assert label_words & words, (name, topic.label)
        assert " · " in topic.label
        assert topic.terms[0] in topic.label


def test_examples_belong_to_their_topic(three_groups: TopicResult) -> None:
    for topic in three_groups.topics:
        assert 1 <= len(topic.examples) <= 3
        assert len(set(topic.examples)) == len(topic.examples)
        assert all(three_groups.assignments[i] == topic.id for i in topic.examples)


def test_topic_fields_are_consistent(three_groups: TopicResult) -> None:
    result = three_groups
    assert [t.id for t in result.topics] == list(range(len(result.topics)))
    sizes = [t.size for t in result.topics]
    assert sizes == sorted(sizes, reverse=True)
    for topic in result.topics:
        assert topic.size == result.assignments.count(topic.id)
        assert topic.size >= 5
        assert 0.0 <= topic.cohesion <= 1.0
        assert topic.terms
    assert set(result.assignments) <= {-1, *range(len(result.topics))}


def test_same_seed_same_result() -> None:
    texts, _ = _texts()
    first = discover_topics(texts, seed=3)
    assert discover_topics(texts, seed=3) == first


def test_max_topics_bounds_the_count() -> None:
    texts, _ = _texts()
    result = discover_topics(texts, max_topics=2)
    assert 1 <= len(result.topics) <= 2
    assert len(result.assignments) == len(texts)


def test_examples_count_follows_the_argument() -> None:
    texts, _ = _texts()
    result = discover_topics(texts, examples=5)
    assert all(len(t.examples) == 5 for t in result.topics)


@pytest.mark.parametrize("texts", [[], ["my parcel is late"], ["a", "b", "c"]])
def test_tiny_inputs_give_no_topic(texts: list[str]) -> None:
    result = discover_topics(texts)
    assert result.topics == ()
    assert result.assignments == (-1,) * len(texts)


def test_tiny_input_with_min_size_one() -> None:
    result = discover_topics(["my parcel is late", "charged twice"], min_size=1)
    assert len(result.assignments) == 2
    assert all(a >= 0 for a in result.assignments)
    assert sum(t.size for t in result.topics) == 2


def test_empty_and_meaningless_texts_are_noise() -> None:
    texts, _ = _texts()
    junk = ["", "   ", "\n\t", "12345", "!!!", "XXXX XX/XX/XXXX", "https://example.com/x"]
    result = discover_topics(junk + texts)
    assert result.assignments[: len(junk)] == (-1,) * len(junk)
    assert len(result.topics) >= 3


@pytest.mark.parametrize("texts", [["", " ", ""] * 4, ["?"] * 10, ["the and of"] * 10])
def test_only_empty_texts(texts: list[str]) -> None:
    result = discover_topics(texts)
    assert result.topics == ()
    assert set(result.assignments) == {-1}


def test_identical_texts_form_one_topic() -> None:
    result = discover_topics(["my parcel is late"] * 8)
    assert len(result.topics) == 1
    assert result.assignments == (0,) * 8
    assert result.topics[0].examples == (0,)  # repeats of one text are one example
    assert "parcel" in result.topics[0].label


def test_one_subject_is_one_topic() -> None:
    result = discover_topics(PARCELS)
    assert len(result.topics) == 1
    assert result.assignments.count(0) >= 15
    assert "parcel" in result.topics[0].label


def test_small_batch_of_two_subjects() -> None:
    result = discover_topics(PARCELS[:6] + CRASHES[:6], min_size=3)
    assert len(result.topics) == 2
    assert len(set(result.assignments[:6])) == 1
    assert len(set(result.assignments[6:])) == 1
    assert result.assignments[0] != result.assignments[6]


def test_max_topics_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_topics"):
        discover_topics(["x"], max_topics=0)


def test_clean_text_drops_what_names_no_topic() -> None:
    cleaned = clean_text("On XX/XX/XXXX @bank charged {$25.00} twice, see https://t.co/x 4444")
    assert cleaned == "On charged twice, see"
