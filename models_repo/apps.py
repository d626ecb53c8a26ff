from django.apps import AppConfig


class ModelsRepoConfig(AppConfig):
    name = "models_repo"
