"""The one error every importer raises: it names the file and says what is wrong with it."""


class SyllabusImportError(Exception):
    def __init__(self, *, filename: str, problem: str) -> None:
        self.filename = filename
        self.problem = problem
        super().__init__(f"{filename}: {problem}")
