"""Forms of the teacher pages and the student's join form: input parsing only (rules in classrooms.services)."""

from django import forms

from curriculum.models import Curriculum
from tutor.models import SentenceReview


class ClassCreateForm(forms.Form):
    name = forms.CharField(max_length=255, label="Class name", help_text='For example "Biology 10B".')
    curriculum = forms.ModelChoiceField(
        queryset=Curriculum.objects.order_by("title"), to_field_name="slug", label="Syllabus", empty_label=None
    )


class JoinClassForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Class code",
        help_text="The code your teacher gave you (capitals and dashes do not matter).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(choices=SentenceReview.Outcome.choices)
    correction = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
