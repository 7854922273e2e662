"""What belongs to an app folder: one rule for copies, checkpoints, workspace comparisons and backups."""

from workbook.appfiles import app_files, copy_app_folder, is_ignored, read_app_files, write_app_files

FOLDER = {
    "app/main.py": "app",
    "app/routers/tasks.py": "router",
    "tests/test_tasks.py": "the learner's own tests",
    ".env": "settings",
    "Dockerfile": "image",
    "app/__pycache__/main.cpython-311.pyc": "cache",
    "tasks.db": "a database",
    "milestone/test_suite.py": "a checkpoint's milestone suite",
    ".venv/lib/site.py": "an environment",
    "app/.ipynb_checkpoints/main-checkpoint.py": "a notebook cache",
}


def make(folder):
    for relative, text in FOLDER.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    return folder


def test_an_app_folder_holds_the_app_its_tests_and_its_files_but_no_caches_databases_or_suite(tmp_path):
    assert sorted(app_files(make(tmp_path / "app-folder"))) == [
        ".env", "Dockerfile", "app/main.py", "app/routers/tasks.py", "tests/test_tasks.py",
    ]  # fmt: skip


def test_ignored_names_count_at_any_depth_and_the_suite_only_at_the_top():
    assert is_ignored("app/__pycache__/x.pyc") and is_ignored("data/tasks.sqlite3") and is_ignored("milestone/x.py")
    assert not is_ignored("app/milestone.py") and not is_ignored("tests/milestone/test_x.py")


def test_a_copy_takes_exactly_the_app_files(tmp_path):
    source = make(tmp_path / "source")

    copy = copy_app_folder(source, tmp_path / "copy")

    assert read_app_files(copy) == read_app_files(source)
    assert not (copy / "tasks.db").exists() and not (copy / "milestone").exists()


def test_written_files_always_come_with_an_app_folder(tmp_path):
    empty = write_app_files(tmp_path / "first", {})
    filled = write_app_files(tmp_path / "later", {"app/main.py": b"x = 1\n"})

    assert (empty / "app").is_dir() and (filled / "app/main.py").read_bytes() == b"x = 1\n"
