"""SentenceMeaningFeaturizer: the meaning of a message as dense sentence features, in any language."""
from __future__ import annotations

import numpy as np
import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import embeddings
from bot.nlu.sentence_featurizer import SentenceMeaningFeaturizer


def featurizer(weight: float = 1.0) -> SentenceMeaningFeaturizer:
    return SentenceMeaningFeaturizer({**SentenceMeaningFeaturizer.get_default_config(), "weight": weight}, "meaning")


def sentence_vector(message: Message) -> np.ndarray:
    _, sentence = message.get_dense_features("text")
    assert sentence is not None
    return sentence.features[0]


def test_each_message_gets_one_sentence_vector_scaled_by_the_weight():
    message = Message(data={"text": "we sleep in the car with the kids"})
    featurizer(weight=3.0).process([message])
    vector = sentence_vector(message)
    assert vector.shape == (embeddings.DIMENSION,)
    assert np.linalg.norm(vector) == pytest.approx(3.0, rel=1e-3)


def test_messages_that_mean_the_same_land_near_each_other_across_languages():
    texts = ["I have nowhere to sleep tonight", "ليس لدي مكان للنوم الليلة", "Where can I learn to drive a truck?"]
    messages = [Message(data={"text": text}) for text in texts]
    featurizer().process(messages)
    homeless_en, homeless_ar, driving = (sentence_vector(message) for message in messages)
    assert homeless_en @ homeless_ar > homeless_en @ driving


def test_training_examples_are_featurized_and_empty_text_is_left_alone():
    data = TrainingData([Message(data={"text": "necesito trabajo", "intent": "employment"}), Message(data={"text": "  "})])
    featurizer().process_training_data(data)
    assert sentence_vector(data.training_examples[0]).shape == (embeddings.DIMENSION,)
    assert data.training_examples[1].get_dense_features("text")[1] is None


def test_a_weight_that_is_not_positive_is_refused():
    with pytest.raises(ValueError, match="weight must be a positive number"):
        featurizer(weight=0)
