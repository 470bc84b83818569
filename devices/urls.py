from devices.views import confiscations, exemptions, handin, register

app_name = "devices"

urlpatterns = [
    *register.urlpatterns,
    *handin.urlpatterns,
    *confiscations.urlpatterns,
    *exemptions.urlpatterns,
]
