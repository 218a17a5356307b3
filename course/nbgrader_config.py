# nbgrader's configuration for its own commands run inside course/ (zip_collect, formgrader,
# generate_assignment): see book/instructors.md. course/kit.py writes its own scratch copy.
c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.root = "."
c.Execute.timeout = 120
