from traceability import create_app

app = create_app()
