"""`sensorproxy-gui [PROJECT]`: the desktop window."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core import gcpause


def main(argv: list[str] | None = None) -> int:
    # Start-up makes some hundred thousand objects that live as long as the window (modules, Qt classes
    # and their enums): collecting garbage meanwhile finds none and costs about 4 ms.
    with gcpause.paused():
        from core import __version__, projectfile

        # isort: split
        # Qt loads here, after core: PySide6 reads the source of every module imported after it (for its
        # __feature__ switch), which costs start-up time for each pure-Python module that could come first.
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QMessageBox

        from gui import theme
        from gui.main_window import MainWindow
        from gui.project_files import empty_project

        parser = argparse.ArgumentParser(prog="sensorproxy-gui", description="The sensorproxy desktop window.")
        parser.add_argument("project", nargs="?", type=Path, help="a project file to open")
        parser.add_argument("--version", action="version", version=f"sensorproxy {__version__}")
        parser.add_argument(
            "--self-test", action="store_true", help="open the window, check that it shows, and exit (for installers)"
        )
        args = parser.parse_args(argv)
        app = QApplication.instance() or QApplication(sys.argv[:1])
        assert isinstance(app, QApplication)
        app.setApplicationName("sensorproxy")
        app.setOrganizationName("sensorproxy")
        app.setApplicationVersion(__version__)
        theme.apply(app)
        project = empty_project()
        if args.project:
            try:
                project = projectfile.load(args.project)
            except projectfile.ProjectFileError as exc:
                print(f"sensorproxy-gui: {exc}", file=sys.stderr)
                if not args.self_test:
                    QMessageBox.critical(None, "Cannot open the project", str(exc))
                return 1
        window = MainWindow(project, args.project)
        window.show()
        QTimer.singleShot(0, _start_log)  # after the first paint, which it need not delay
        if args.self_test:  # painted once, without waiting for work deferred until after start-up
            rows = window.model.rowCount()
            shown = window.isVisible() and not window.grab().isNull() and rows == len(project.sensors)
            print(f"sensorproxy-gui self-test: {'window shown' if shown else 'FAILED'}, {rows} sensors")
            window.close()
            return 0 if shown else 1
    from gui import crash

    previous, sys.excepthook = sys.excepthook, crash.report
    try:
        return app.exec()
    finally:
        sys.excepthook = previous


def _start_log() -> None:
    from core import logs

    try:
        logs.start()
    except OSError as exc:  # no log is no reason not to work
        print(f"sensorproxy-gui: no log: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
