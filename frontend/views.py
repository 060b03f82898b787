from django.shortcuts import render

from curriculum.selectors import curriculum_list


def home(request):
    return render(request, "frontend/home.html", {"curricula": curriculum_list()})
