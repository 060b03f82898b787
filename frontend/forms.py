"""Forms of the student web app: input parsing only; the rules live in the services they feed."""

from django import forms

from tutor.models import LearnerProfile


class SignupForm(forms.Form):
    # Same username rule as the REST register API, so both doors accept the same names.
    username = forms.RegexField(
        regex=r"^[\w.@+-]+\Z",
        max_length=150,
        help_text="Letters, digits and @ . + - _ only.",
        error_messages={"invalid": "Use only letters, digits and @ . + - _."},
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    email = forms.EmailField(
        required=False, help_text="Optional.", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    level = forms.ChoiceField(
        choices=LearnerProfile.Level.choices,
        initial=LearnerProfile.Level.INTERMEDIATE,
        label="Your level",
        help_text="How much the tutor may assume you already know.",
    )
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(
        strip=False, label="Password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        cleaned = super().clean()
        password, again = cleaned.get("password"), cleaned.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", "The two passwords differ.")
        return cleaned
