"""factory_boy factories of the learner-model tests."""

import factory

from curriculum.models import PracticeQuestion
from tests.factories import TopicFactory


class PracticeQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PracticeQuestion

    topic = factory.SubFactory(TopicFactory)
    source_id = factory.Sequence(lambda n: f"fs-id{n}")
    stem = factory.Sequence(lambda n: f"Which of these is statement number {n}?")
    choices = factory.LazyFunction(lambda: ["the first", "the second", "the third", "the fourth"])
    answer_index = 1
    explanation = ""
