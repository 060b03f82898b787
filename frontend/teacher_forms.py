"""Forms of the teacher pages and the student's join form: input parsing only (rules in classrooms.services)."""

from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from classrooms.models import ClassroomSettings
from curriculum.selectors import curriculum_list_for_teacher
from tutor.models import SentenceReview


class ClassCreateForm(forms.Form):
    name = forms.CharField(max_length=255, label="Class name", help_text='For example "Biology 10B".')
    curriculum = forms.ModelChoiceField(
        queryset=None,  # the teacher's choices: set in __init__
        to_field_name="slug",
        label="Syllabus",
        required=False,
        empty_label="A new syllabus of my own (title below)",
    )
    syllabus_title = forms.CharField(
        max_length=255,
        required=False,
        label="Or start your own: its title",
        help_text="Only for a new syllabus of your own: you add its text as files on the class page, and only "
        "your classes see it.",
    )

    def __init__(self, *args: Any, teacher: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = curriculum_list_for_teacher(teacher=teacher)
        field = self.fields["curriculum"]
        field.queryset = choices  # type: ignore[attr-defined]
        first = choices.first()
        if first is not None and not self.is_bound:
            self.initial.setdefault("curriculum", first.slug)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("curriculum") is None and not data.get("syllabus_title", "").strip():
            raise forms.ValidationError("Choose a syllabus, or give a syllabus of your own a title.")
        return data


class ClassSettingsForm(forms.Form):
    unsupported_policy = forms.ChoiceField(
        choices=ClassroomSettings.UnsupportedPolicy.choices,
        widget=forms.RadioSelect,
        label="Sentences the verifier could not support",
    )
    hint_first = forms.BooleanField(
        required=False, label="Hint first", help_text="The tutor starts with a hint and gives the answer when asked."
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Add a file to the syllabus",
        help_text="Markdown (.md), text (.txt) or PDF; its headings become sections.",
        widget=forms.ClearableFileInput(attrs={"accept": ".md,.markdown,.txt,.pdf"}),
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
